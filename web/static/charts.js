/*
 * charts.js: the page's charts, all drawn by Chart.js (Debian's
 * libjs-chart.js 3.9, served by nfpg-web as /static/chart.min.js).
 *
 * Time runs on a linear axis of epoch milliseconds (Chart.js's time axis
 * needs a date adapter Debian does not package); ticks are formatted here.
 * NfSen's picture is a stack: one area per protocol (TCP, UDP, ICMP,
 * other), or per channel, stacked above the axis for sign +1 and below it
 * for sign -1.  The only drawing of our own is the selection band, a
 * Chart.js plugin that shades the chosen slot or window; clicks and drags
 * on the canvas are turned into slot-aligned windows for the details page.
 *
 * Every chart is kept in window.nfpgCharts by canvas id, so a test (or a
 * curious user in the console) can read exactly what was drawn.
 */
'use strict';

const NfCharts = (() => {
	const SLOT = 300000;
	const PROTOS = [
		['tcp', 'TCP', '#1f77b4'], ['udp', 'UDP', '#2ca02c'],
		['icmp', 'ICMP', '#ff7f0e'], ['other', 'other', '#9467bd'],
	];
	const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b',
		'#e377c2', '#17becf', '#bcbd22', '#7f7f7f', '#aec7e8', '#ffbb78'];
	const charts = {};
	window.nfpgCharts = charts;

	function si(v) {
		const a = Math.abs(v);
		if (a >= 1e12) return (v / 1e12).toFixed(1) + ' T';
		if (a >= 1e9) return (v / 1e9).toFixed(1) + ' G';
		if (a >= 1e6) return (v / 1e6).toFixed(1) + ' M';
		if (a >= 1e3) return (v / 1e3).toFixed(1) + ' k';
		return (Math.round(v * 100) / 100).toString();
	}

	function pad(n) { return n < 10 ? '0' + n : '' + n; }

	function timeLabel(ms, span) {
		const d = new Date(ms);
		const hm = pad(d.getHours()) + ':' + pad(d.getMinutes());
		if (span <= 36 * 3600e3) return hm;
		return (d.getMonth() + 1) + '-' + pad(d.getDate()) + (span <= 10 * 86400e3 ? ' ' + hm : '');
	}

	// Ticks on round times (UTC multiples of the step; whole hours in most
	// time zones), at most about eight of them.
	const STEPS = [300e3, 900e3, 1800e3, 3600e3, 2 * 3600e3, 3 * 3600e3, 6 * 3600e3, 12 * 3600e3,
		86400e3, 2 * 86400e3, 7 * 86400e3];
	function timeTicks(from, to) {
		const step = STEPS.find((s) => (to - from) / s <= 8) || 14 * 86400e3;
		const ticks = [];
		for (let t = Math.ceil(from / step) * step; t <= to; t += step) ticks.push({ value: t });
		return ticks;
	}

	// Shades the selected window [sel[0], sel[1]) behind the data.
	const selectionPlugin = {
		id: 'nfselection',
		beforeDatasetsDraw(chart) {
			const s = chart.$sel;
			if (!s) return;
			const x = chart.scales.x, area = chart.chartArea, ctx = chart.ctx;
			const a = Math.max(x.getPixelForValue(s[0]), area.left);
			const b = Math.min(x.getPixelForValue(s[1]), area.right);
			if (b < area.left || a > area.right) return;
			ctx.save();
			ctx.fillStyle = 'rgba(255, 190, 0, 0.3)';
			ctx.fillRect(a, area.top, Math.max(b - a, 2), area.bottom - area.top);
			ctx.restore();
		},
	};

	// Click: the slot under the pointer; drag: the slots it covers.
	function attachSelection(chart, onSelect) {
		const canvas = chart.canvas;
		let start = null;
		const valueAt = (ev) => chart.scales.x.getValueForPixel(ev.offsetX);
		canvas.addEventListener('mousedown', (ev) => { start = { px: ev.offsetX, v: valueAt(ev) }; });
		canvas.addEventListener('mousemove', (ev) => {
			if (!start || Math.abs(ev.offsetX - start.px) < 5) return;
			const v = valueAt(ev);
			chart.$sel = [Math.min(start.v, v), Math.max(start.v, v)];
			chart.draw();
		});
		canvas.addEventListener('mouseup', (ev) => {
			if (!start) return;
			const v = valueAt(ev);
			let sel;
			if (Math.abs(ev.offsetX - start.px) < 5) {
				const s = Math.floor(v / SLOT) * SLOT;
				sel = [s, s + SLOT];
			} else {
				sel = [Math.floor(Math.min(start.v, v) / SLOT) * SLOT,
					Math.ceil(Math.max(start.v, v) / SLOT) * SLOT];
			}
			start = null;
			onSelect(sel);
		});
	}

	/*
	 * draw(id, datasets, {from, to, half, unit, title, stacked, sel, onSelect}):
	 * datasets are {label, data: [{x, y}], colour, stack, dashed}; points are
 * drawn at the middle of their slot or bucket, half (ms) after its start.
	 */
	function draw(id, datasets, o) {
		const canvas = document.getElementById(id);
		if (charts[id]) charts[id].destroy();
		const firstOfStack = {};
		const ds = datasets.map((d, i) => {
			const stack = d.stack || 'up';
			const first = !(stack in firstOfStack);
			firstOfStack[stack] = true;
			const colour = /^#[0-9a-f]{6}$/i.test(d.colour || '') ? d.colour : PALETTE[i % PALETTE.length];
			return {
				label: d.label, data: d.data, stack,
				borderColor: colour, backgroundColor: colour + (o.stacked ? 'b0' : '30'),
				fill: o.stacked ? (first ? 'origin' : '-1') : false,
				borderDash: d.dashed ? [6, 4] : [], borderWidth: 1, pointRadius: 0, tension: 0,
			};
		});
		const span = o.to - o.from;
		const chart = new Chart(canvas, {
			type: 'line',
			data: { datasets: ds },
			options: {
				animation: false, responsive: true, maintainAspectRatio: false,
				interaction: { mode: 'index', intersect: false },
				scales: {
					x: { type: 'linear', min: o.from, max: o.to,
						afterBuildTicks: (axis) => { axis.ticks = timeTicks(o.from, o.to); },
						ticks: { autoSkip: false, maxRotation: 0, callback: (v) => timeLabel(v, span) } },
					y: { stacked: !!o.stacked, beginAtZero: true, title: { display: !!o.unit, text: o.unit },
						ticks: { callback: (v) => si(v) } },
				},
				plugins: {
					title: { display: !!o.title, text: o.title },
					legend: { position: 'bottom', labels: { boxWidth: 12 } },
					tooltip: { callbacks: {
						// points sit in the middle of their slot or bucket
						title: (items) => items.length ? 'from ' + new Date(items[0].parsed.x - (o.half || 0)).toLocaleString() : '',
						label: (it) => it.dataset.label + ': ' + si(it.parsed.y),
					} },
				},
			},
			plugins: [selectionPlugin],
		});
		chart.$sel = o.sel || null;
		if (o.onSelect) attachSelection(chart, o.onSelect);
		if (o.onClick) canvas.addEventListener('click', o.onClick);
		charts[id] = chart;
		return chart;
	}

	function select(id, sel) {
		if (charts[id]) { charts[id].$sel = sel; charts[id].draw(); }
	}

	return { SLOT, PROTOS, PALETTE, draw, select, si };
})();
