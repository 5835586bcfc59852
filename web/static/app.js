/*
 * app.js: nfpg-web's page -- NfSen's overview and details, graphs of any
 * filter, Top-N over time and the operations tables.
 *
 * The whole state of the page is in the URL fragment (view, profile, span,
 * window, selected slots, filter, processing options), written with
 * history.replaceState on every change and read back on load, so a view is
 * shared by copying the address.  Every number comes from one of nfpg-web's
 * fixed JSON endpoints, which call the extension's functions under the
 * logged-in role; the page never sends SQL.  Filters are nfdump's; an error
 * comes back with the position nf_filter found it at, shown under the text.
 * Addresses, ports, ASes and protocols in results are links that add
 * themselves to the filter and run the query again (NfSen's drill-down).
 */
'use strict';

const $ = (id) => document.getElementById(id);
const SLOT = NfCharts.SLOT;
const SPANS = { '2h': 2 * 3600e3, '24h': 24 * 3600e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };
const STATS = ['ip', 'srcip', 'dstip', 'port', 'srcport', 'dstport', 'proto', 'as', 'srcas', 'dstas',
	'prevas', 'nextas', 'if', 'inif', 'outif', 'tos', 'srctos', 'dsttos', 'dir', 'mask', 'srcmask',
	'dstmask', 'vlan', 'srcvlan', 'dstvlan', 'nhip', 'nhbip', 'router', 'srcmac', 'dstmac', 'inmac',
	'outmac', 'mpls1', 'mpls2', 'mpls3', 'odid', 'record',
	'ip:p', 'port:p', 'srcport:p', 'dstport:p', 'as:p'];
const ORDERS = ['flows', 'packets', 'bytes', 'pps', 'bps', 'bpp', 'tstart', 'tend'];
const TOP_STATS = ['dstport', 'srcport', 'srcip', 'dstip', 'srcas', 'dstas', 'proto', 'inif', 'outif',
	'router', 'srctos', 'nhip'];
// the nfdump filter a -s value stands for
const STAT_FILTER = { ip: 'ip', srcip: 'src ip', dstip: 'dst ip', port: 'port', srcport: 'src port',
	dstport: 'dst port', as: 'as', srcas: 'src as', dstas: 'dst as', proto: 'proto', nhip: 'next ip' };
const UNITS = { flows: 'flows/s', packets: 'packets/s', bits: 'bits/s' };

// ------------------------------------------------------------------ state

const state = {};
const DEFAULTS = { v: 'overview', p: 'live', span: '24h', from: '', to: '', s0: '', s1: '',
	m: 'bits', sum: 'sum', f: '', mode: 'list', stat: 'ip', order: 'flows', n: '10', agg: '',
	fmt: 'line', cfmt: '', lim: '100', gf: '', gb: '5', gm: 'bits', ov: 'none', tf: '',
	ts: 'dstport', to_: 'bytes', tn: '8', tb: '5' };

function readState() {
	const h = new URLSearchParams(location.hash.slice(1));
	for (const k of Object.keys(DEFAULTS)) state[k] = h.has(k) ? h.get(k) : DEFAULTS[k];
}

function writeState() {
	const h = new URLSearchParams();
	for (const k of Object.keys(DEFAULTS)) if (state[k] !== DEFAULTS[k]) h.set(k, state[k]);
	history.replaceState(null, '', '#' + h.toString());
}

function set(changes) { Object.assign(state, changes); writeState(); }

// The span shown: the last span up to the current slot, or a custom window.
function window_() {
	if (state.span === 'custom' && state.from && state.to)
		return { from: +state.from, to: +state.to };
	const to = Math.ceil(Date.now() / SLOT) * SLOT;
	return { from: to - (SPANS[state.span] || SPANS['24h']), to };
}

// The details window: the selected slots, or by default the last built one.
function selection() {
	if (state.s0 && state.s1) return [+state.s0, +state.s1];
	return null;
}

const iso = (ms) => new Date(ms).toISOString();
// a datetime-local input's value: local time, minutes
const localInput = (ms) => new Date(ms - new Date(ms).getTimezoneOffset() * 60e3).toISOString().slice(0, 16);

// ------------------------------------------------------------------ API

class ApiError extends Error {
	constructor(status, body) { super(body.error || ('HTTP ' + status)); this.status = status; this.body = body; }
}

async function api(name, params, post) {
	const q = new URLSearchParams();
	for (const [k, v] of Object.entries(params || {})) if (v !== undefined && v !== null) q.set(k, v);
	const r = post
		? await fetch('/api/' + name, { method: 'POST', body: q, credentials: 'same-origin',
			headers: { 'X-Requested-With': 'nfpg' } })
		: await fetch('/api/' + name + '?' + q.toString(), { credentials: 'same-origin' });
	let body;
	try { body = await r.json(); } catch (e) { body = { error: 'HTTP ' + r.status }; }
	if (r.status === 401 && name !== 'login') { showLogin(); }
	if (!r.ok) throw new ApiError(r.status, body);
	return body;
}

function showError(el, err, filterText) {
	el.textContent = '';
	if (!err) return;
	const msg = document.createElement('div');
	msg.textContent = err.message + (err.body && err.body.hint ? ' (' + err.body.hint + ')' : '');
	el.appendChild(msg);
	const pos = err.body && err.body.position;
	if (pos && filterText !== undefined) {
		// nf_filter counts from 1; show the text with a caret under the spot
		const pre = document.createElement('pre');
		pre.className = 'caret';
		pre.textContent = filterText + '\n' + ' '.repeat(Math.max(pos - 1, 0)) + '^';
		pre.dataset.position = pos;
		el.appendChild(pre);
	}
}

function status(text) { $('status').textContent = text || ''; }

// ------------------------------------------------------------------ tables

function table(el, rows, columns) {
	el.textContent = '';
	const head = el.createTHead().insertRow();
	for (const c of columns) {
		const th = document.createElement('th');
		th.textContent = c.title || c.key;
		head.appendChild(th);
	}
	const body = el.createTBody();
	for (const r of rows) {
		const tr = body.insertRow();
		for (const c of columns) {
			const td = tr.insertCell();
			const v = c.render ? c.render(r) : r[c.key];
			if (v instanceof Node) td.appendChild(v); else td.textContent = v === null || v === undefined ? '' : v;
			if (c.num) td.className = 'num';
		}
	}
	if (!rows.length) {
		const td = body.insertRow().insertCell();
		td.colSpan = columns.length;
		td.textContent = 'no rows';
	}
}

const fmtTime = (t) => t ? new Date(t).toLocaleString() : '';
const fmtNum = (v) => v === null || v === undefined ? '' : Number(v).toLocaleString();

// A link that adds "what" to the details filter and runs it again.
function drill(text, what) {
	const a = document.createElement('a');
	a.href = '#';
	a.className = 'drill';
	a.textContent = text;
	a.dataset.filter = what;
	a.title = 'add "' + what + '" to the filter';
	a.addEventListener('click', (ev) => {
		ev.preventDefault();
		const f = state.f.trim();
		set({ f: f ? '(' + f + ') and ' + what : what });
		$('d-filter').value = state.f;
		process();
	});
	return a;
}

// ------------------------------------------------------------------ profiles

let profiles = [];

async function loadProfiles() {
	profiles = await api('profiles');
	for (const id of ['d-profile', 'g-profile', 't-profile']) {
		const sel = $(id);
		sel.textContent = '';
		for (const p of profiles) sel.add(new Option(p.profile, p.profile));
		sel.value = state.p;
	}
}

function protoSets(rows, metric, channel) {
	return NfCharts.PROTOS.map(([k, label, colour]) => ({
		label, colour,
		data: rows.filter((r) => r.channel === channel)
			.map((r) => ({ x: Date.parse(r.slot) + SLOT / 2, y: r[metric + '_' + k] })),
	}));
}

function channelSets(rows, metric, p) {
	return p.channels.map((c) => ({
		label: c.channel + (c.sign < 0 ? ' (-)' : ''), colour: c.colour, stack: c.sign < 0 ? 'down' : 'up',
		data: rows.filter((r) => r.channel === c.channel)
			.map((r) => ({ x: Date.parse(r.slot) + SLOT / 2, y: c.sign * r[metric] })),
	}));
}

// ------------------------------------------------------------------ overview

async function overview() {
	const root = $('v-overview');
	const w = window_();
	root.textContent = '';
	for (const p of profiles) {
		const box = document.createElement('div');
		box.className = 'profile';
		const h = document.createElement('h2');
		h.textContent = p.profile + ' ';
		const sub = document.createElement('small');
		sub.textContent = p.filter + (p.last_slot ? ' \u2014 last slot ' + fmtTime(p.last_slot) : ' \u2014 no slot built yet');
		h.appendChild(sub);
		box.appendChild(h);
		const grid = document.createElement('div');
		grid.className = 'grid';
		box.appendChild(grid);
		root.appendChild(box);
		const metrics = ['flows', 'packets', 'bits'];
		const ids = metrics.map((m) => 'o-' + p.profile + '-' + m);
		if (p.channels.length) ids.push('o-' + p.profile + '-channels');
		for (const id of ids) {
			const c = document.createElement('div');
			c.className = 'chartbox';
			const cv = document.createElement('canvas');
			cv.id = id;
			c.appendChild(cv);
			grid.appendChild(c);
		}
		let rows;
		try {
			rows = await api('rates', { profile: p.profile, from: iso(w.from), to: iso(w.to) });
		} catch (e) { status(p.profile + ': ' + e.message); continue; }
		const open = () => { set({ v: 'details', p: p.profile }); show(); };
		metrics.forEach((m, i) => NfCharts.draw(ids[i], protoSets(rows, m, '*'),
			{ from: w.from, to: w.to, half: SLOT / 2, unit: UNITS[m], title: UNITS[m], stacked: true, onClick: open }));
		if (p.channels.length)
			NfCharts.draw(ids[3], channelSets(rows, 'bits', p),
				{ from: w.from, to: w.to, half: SLOT / 2, unit: 'bits/s', title: 'channels, bits/s', stacked: true, onClick: open });
	}
	if (!profiles.length) root.textContent = 'No profiles: SELECT nfpg.nf_live_profile(); creates "live".';
}

// ------------------------------------------------------------------ details

function fillSelect(sel, values, current) {
	if (!sel.options.length) for (const v of values) sel.add(new Option(v, v));
	sel.value = current;
}

function describeSel(sel) {
	if (!sel) return 'no slot selected';
	const n = (sel[1] - sel[0]) / SLOT;
	return fmtTime(sel[0]) + ' \u2013 ' + fmtTime(sel[1]) + ' (' + n + (n === 1 ? ' slot)' : ' slots)');
}

async function details() {
	const w = window_();
	const p = profiles.find((x) => x.profile === state.p) || profiles[0];
	if (!p) return;
	$('d-profile').value = p.profile;
	$('d-metric').value = state.m;
	if (!selection() && p.last_slot) {
		const s = Date.parse(p.last_slot);
		set({ s0: '' + s, s1: '' + (s + SLOT) });
	}
	const rows = await api('rates', { profile: p.profile, from: iso(w.from), to: iso(w.to) });
	const sets = p.channels.length ? channelSets(rows, state.m, p) : protoSets(rows, state.m, '*');
	NfCharts.draw('d-chart', sets, { from: w.from, to: w.to, half: SLOT / 2, unit: UNITS[state.m], stacked: true,
		sel: selection(), onSelect: (sel) => selectWindow(sel) });
	await summary();
	syncForm();
	await process();
}

async function selectWindow(sel) {
	set({ s0: '' + sel[0], s1: '' + sel[1] });
	NfCharts.select('d-chart', sel);
	await summary();
	await process();
}

async function summary() {
	const sel = selection();
	$('d-selection').textContent = describeSel(sel);
	if (!sel) return;
	const rows = await api('totals', { profile: state.p, from: iso(sel[0]), to: iso(sel[1]) });
	const secs = (sel[1] - sel[0]) / 1000;
	const rate = state.sum === 'rate';
	const cell = (v, bits) => {
		const x = Number(v) * (bits && rate ? 8 : 1);
		return rate ? NfCharts.si(x / secs) : fmtNum(x);
	};
	const cols = [{ key: 'channel' }];
	for (const m of ['flows', 'packets', 'bytes'])
		for (const k of ['', '_tcp', '_udp', '_icmp', '_other'])
			cols.push({ key: m + k, title: (rate ? (m === 'bytes' ? 'bits' : m) + '/s' : m) + (k ? ' ' + k.slice(1) : ''),
				num: true, render: (r) => cell(r[m + k], m === 'bytes') });
	table($('d-summary'), rows, cols);
}

function syncForm() {
	fillSelect($('d-stat'), STATS, state.stat);
	fillSelect($('d-order'), ORDERS, state.order);
	$('d-filter').value = state.f;
	$('d-n').value = state.n;
	$('d-agg').value = state.agg;
	$('d-format').value = state.fmt;
	$('d-fmt').value = state.cfmt;
	$('d-limit').value = state.lim;
	for (const r of document.querySelectorAll('input[name=d-mode]')) r.checked = r.value === state.mode;
	for (const r of document.querySelectorAll('input[name=d-sum]')) r.checked = r.value === state.sum;
	for (const el of document.querySelectorAll('.m-list, .m-stat, .m-agg'))
		el.hidden = !el.classList.contains('m-' + state.mode);
	$('d-fmt').parentElement.hidden = state.mode === 'stat' || state.fmt !== 'fmt';
}

function readForm() {
	set({
		f: $('d-filter').value, n: $('d-n').value, agg: $('d-agg').value, fmt: $('d-format').value,
		cfmt: $('d-fmt').value, lim: $('d-limit').value, stat: $('d-stat').value, order: $('d-order').value,
		mode: document.querySelector('input[name=d-mode]:checked').value,
	});
}

const outFormat = () => state.fmt === 'fmt' ? 'fmt:' + state.cfmt : state.fmt;

// Flow lines with their addresses and ports as drill-down links.
function flowLine(r) {
	const pre = document.createElement('span');
	pre.className = 'line';
	let text = r.line;
	const parts = [];
	const take = (needle, filter) => {
		if (needle === null || needle === undefined) return;
		const i = text.indexOf(needle);
		if (i < 0) return;
		parts.push(text.slice(0, i), drill(needle, filter));
		text = text.slice(i + needle.length);
	};
	const ports = r.proto === 6 || r.proto === 17;
	take(r.src_addr, 'src ip ' + r.src_addr);
	if (ports && text.startsWith(':' + r.src_port)) take('' + r.src_port, 'src port ' + r.src_port);
	take(r.dst_addr, 'dst ip ' + r.dst_addr);
	if (ports && text.startsWith(':' + r.dst_port)) take('' + r.dst_port, 'dst port ' + r.dst_port);
	parts.push(text);
	for (const p of parts) pre.append(p);
	if (r.src_as || r.dst_as) {
		const as = document.createElement('span');
		as.className = 'as';
		as.append('  AS ');
		if (r.src_as) as.append(drill('' + r.src_as, 'src as ' + r.src_as));
		as.append(' \u2192 ');
		if (r.dst_as) as.append(drill('' + r.dst_as, 'dst as ' + r.dst_as));
		pre.append(as);
	}
	return pre;
}

async function process() {
	const sel = selection();
	const out = $('d-result');
	const err = $('d-filtererror');
	if (!sel) { out.textContent = 'select a slot first'; return; }
	const base = { profile: state.p, filter: state.f, from: iso(sel[0]), to: iso(sel[1]) };
	out.textContent = 'working\u2026';
	out.dataset.state = 'busy';
	try {
		if (state.mode === 'stat') {
			const rows = await api('stat', { ...base, stat: state.stat, order: state.order, n: state.n });
			const kind = STAT_FILTER[state.stat];
			out.textContent = '';
			const t = out.appendChild(document.createElement('table'));
			t.className = 'data';
			t.id = 'd-stat-table';
			table(t, rows, [
				{ key: 'rank', num: true },
				{ key: 'value', title: state.stat, render: (r) => kind && !r.value.includes('..') ? drill(r.value, kind + ' ' + r.value) : r.value },
				...(state.stat.endsWith(':p') ? [{ key: 'proto' }] : []),
				{ key: 'first_seen', title: 'first seen', render: (r) => fmtTime(r.first_seen) },
				{ key: 'flows', num: true, render: (r) => fmtNum(r.flows) + ' (' + r.flows_pct.toFixed(1) + '%)' },
				{ key: 'packets', num: true, render: (r) => fmtNum(r.packets) + ' (' + r.packets_pct.toFixed(1) + '%)' },
				{ key: 'bytes', num: true, render: (r) => fmtNum(r.bytes) + ' (' + r.bytes_pct.toFixed(1) + '%)' },
				{ key: 'pps', num: true }, { key: 'bps', num: true }, { key: 'bpp', num: true },
			]);
		} else {
			const res = state.mode === 'agg'
				? await api('aggregate', { ...base, fields: state.agg, order: state.order, n: state.n, format: outFormat() })
				: await api('flows', { ...base, format: outFormat(), limit: state.lim });
			out.textContent = '';
			const pre = document.createElement('pre');
			pre.className = 'flows';
			pre.id = 'd-flow-list';
			if (res.header) pre.append(res.header + '\n');
			for (const r of res.rows) { pre.append(flowLine(r)); pre.append('\n'); }
			pre.dataset.rows = res.rows.length;
			out.appendChild(pre);
			const note = document.createElement('p');
			note.className = 'note';
			note.textContent = res.rows.length + ' records';
			out.appendChild(note);
		}
		showError(err, null);
	} catch (e) {
		out.textContent = '';
		showError(err, e, state.f);
	}
	out.dataset.state = 'done';
}

// ------------------------------------------------------------------ graph a filter

const OVERLAY = { prev: null, day: 86400e3, week: 7 * 86400e3 };

async function graph() {
	const w = window_();
	$('g-filter').value = state.gf;
	$('g-profile').value = state.p;
	$('g-bucket').value = state.gb;
	$('g-metric').value = state.gm;
	$('g-overlay').value = state.ov;
	const params = { profile: state.p, filter: state.gf, from: iso(w.from), to: iso(w.to),
		bucket: state.gb + ' minutes' };
	const key = state.gm + '_s';
	const toSet = (rows, label, dashed) => ({ label, dashed,
		data: rows.map((r) => ({ x: Date.parse(r.slot) + state.gb * 30e3, y: r[key] })) });
	try {
		const sets = [toSet(await api('graph', params), state.gf || 'all flows', false)];
		if (state.ov !== 'none') {
			const shift = OVERLAY[state.ov] || (w.to - w.from);
			sets.push(toSet(await api('graph', { ...params, shift: (shift / 1000) + ' seconds' }),
				'previous (' + state.ov + ')', true));
		}
		NfCharts.draw('g-chart', sets, { from: w.from, to: w.to, half: state.gb * 30e3, unit: UNITS[state.gm], stacked: false });
		showError($('g-filtererror'), null);
	} catch (e) { showError($('g-filtererror'), e, state.gf); }
}

async function saveProfile() {
	const w = window_();
	try {
		const r = await api('save_profile', { name: $('g-name').value, filter: state.gf || 'any',
			from: iso(w.from) }, true);
		$('g-message').textContent = 'profile "' + r.profile + '" saved; the scheduler builds its slots';
		await loadProfiles();
	} catch (e) { $('g-message').textContent = e.message; }
}

// ------------------------------------------------------------------ Top-N over time

async function topn() {
	const w = window_();
	fillSelect($('t-stat'), TOP_STATS, state.ts);
	$('t-filter').value = state.tf;
	$('t-profile').value = state.p;
	$('t-order').value = state.to_;
	$('t-n').value = state.tn;
	$('t-bucket').value = state.tb;
	try {
		const rows = await api('topseries', { profile: state.p, filter: state.tf, from: iso(w.from),
			to: iso(w.to), stat: state.ts, order: state.to_, n: state.tn, bucket: state.tb + ' minutes' });
		const keys = [...new Map(rows.map((r) => [r.key, r.rank])).entries()].sort((a, b) => a[1] - b[1]);
		const step = state.tb * 60e3;
		const sets = keys.map(([k]) => {
			const byTime = new Map(rows.filter((r) => r.key === k).map((r) => [Date.parse(r.slot), r.value]));
			const data = [];
			for (let t = Math.floor(w.from / step) * step; t < w.to; t += step) data.push({ x: t + step / 2, y: byTime.get(t) || 0 });
			return { label: k, data, colour: k === 'Other' ? '#c0c0c0' : undefined };
		});
		const unit = state.to_ === 'bytes' ? 'bits/s' : state.to_ + '/s';
		NfCharts.draw('t-chart', sets, { from: w.from, to: w.to, half: step / 2, unit, stacked: true,
			title: 'top ' + state.tn + ' ' + state.ts + ' by ' + state.to_ });
		showError($('t-filtererror'), null);
	} catch (e) { showError($('t-filtererror'), e, state.tf); }
}

// ------------------------------------------------------------------ operations

async function ops() {
	const load = async (name, id, cols) => {
		try { table($(id), await api(name), cols); } catch (e) { $(id).textContent = e.message; }
	};
	await load('exporters', 'o-exporters', [{ key: 'exporter' }, { key: 'export_version', title: 'version' },
		{ key: 'source_id', title: 'source id' }, { key: 'flows', num: true, render: (r) => fmtNum(r.flows) },
		{ key: 'packets', title: 'datagrams', num: true, render: (r) => fmtNum(r.packets) },
		{ key: 'sequence_failures', title: 'sequence failures', num: true },
		{ key: 'sampling_interval', title: 'sampling' }, { key: 'templates', num: true },
		{ key: 'first_seen', title: 'first seen', render: (r) => fmtTime(r.first_seen) },
		{ key: 'last_seen', title: 'last seen', render: (r) => fmtTime(r.last_seen) }]);
	const n = (key, title) => ({ key, title, num: true, render: (r) => fmtNum(r[key]) });
	await load('collector', 'o-collector', [{ key: 'instance' },
		{ key: 'exporter', title: 'source', render: (r) => r.exporter || 'all sources' },
		{ key: 'running_since', title: 'running since', render: (r) => fmtTime(r.running_since) },
		{ key: 'updated', render: (r) => fmtTime(r.updated) },
		n('datagrams', 'datagrams'), n('flows', 'flows'), n('denied', 'denied'), n('rejected', 'rejected'),
		n('out_of_window', 'out of window'), n('queue_drops', 'queue drops'), n('socket_drops', 'socket drops'),
		n('loaded_flows', 'loaded'), n('spooled_flows', 'spooled'), n('replayed_flows', 'replayed'),
		n('lost_flows', 'lost'), n('failed_batches', 'failed batches'), n('spool_files', 'spool files'),
		n('quarantine_files', 'quarantined files')]);
	await load('runs', 'o-runs', [{ key: 'run' }, { key: 'started', render: (r) => fmtTime(r.started) },
		{ key: 'finished', render: (r) => fmtTime(r.finished) }, { key: 'slots', num: true },
		{ key: 'plugin_failures', title: 'plugin failures', num: true },
		{ key: 'alerts_fired', title: 'alerts', num: true },
		{ key: 'partitions_dropped', title: 'partitions dropped', num: true }, { key: 'indexed' },
		{ key: 'errors', render: (r) => r.errors.join('; ') }]);
	await load('alerts', 'o-alerts', [{ key: 'alert' }, { key: 'profile' }, { key: 'slot', render: (r) => fmtTime(r.slot) },
		{ key: 'metric' }, { key: 'op' }, { key: 'threshold', num: true }, { key: 'value', num: true },
		{ key: 'reference', num: true }, { key: 'fired', render: (r) => r.fired ? 'FIRED' : '' }]);
	await load('plugins', 'o-plugins', [{ key: 'plugin' }, { key: 'profile' }, { key: 'slot', render: (r) => fmtTime(r.slot) },
		{ key: 'status' }, { key: 'seconds', num: true }, { key: 'message' }]);
}

// ------------------------------------------------------------------ frame

const VIEWS = { overview, details, graph, topn, ops };

async function show() {
	for (const a of document.querySelectorAll('#tabs a')) a.classList.toggle('active', a.dataset.view === state.v);
	for (const s of document.querySelectorAll('.view')) s.hidden = s.id !== 'v-' + state.v;
	$('span').value = state.span;
	$('custom').hidden = state.span !== 'custom';
	if (state.span === 'custom') {
		const w = window_();
		$('cfrom').value = localInput(w.from);
		$('cto').value = localInput(w.to);
	}
	status('');
	document.body.dataset.ready = 'no';
	try { await (VIEWS[state.v] || overview)(); } catch (e) { if (e.status !== 401) status(e.message); }
	document.body.dataset.ready = 'yes';
}

function showLogin() {
	$('main').hidden = true;
	$('logout').hidden = true;
	$('who').textContent = '';
	$('login').hidden = false;
	document.body.dataset.ready = 'login';
}

async function start() {
	try {
		const me = await api('me');
		$('who').textContent = me.role + '@' + me.database;
	} catch (e) { if (e.status === 401) return; status(e.message); }
	$('login').hidden = true;
	$('main').hidden = false;
	$('logout').hidden = false;
	await loadProfiles();
	if (!profiles.find((p) => p.profile === state.p) && profiles.length) set({ p: profiles[0].profile });
	await show();
}

// Re-draw when a new slot is built (relative spans only).
let lastSlot = null;
async function poll() {
	if ($('main').hidden || state.span === 'custom') return;
	try {
		const s = (await api('lastslot')).slot;
		if (lastSlot !== null && s !== lastSlot) { await loadProfiles(); await show(); }
		lastSlot = s;
	} catch (e) { /* shown on the next action */ }
}

function wire() {
	$('loginform').addEventListener('submit', async (ev) => {
		ev.preventDefault();
		const f = new FormData(ev.target);
		try {
			await api('login', { user: f.get('user'), password: f.get('password'),
				tz: Intl.DateTimeFormat().resolvedOptions().timeZone }, true);
			$('loginerror').textContent = '';
			ev.target.reset();
			await start();
		} catch (e) { $('loginerror').textContent = e.message; }
	});
	$('logout').addEventListener('click', async () => { await api('logout', {}, true); showLogin(); });
	for (const a of document.querySelectorAll('#tabs a'))
		a.addEventListener('click', (ev) => { ev.preventDefault(); set({ v: a.dataset.view }); show(); });
	$('span').addEventListener('change', () => {
		const w = window_();
		set({ span: $('span').value, from: '' + w.from, to: '' + w.to });
		show();
	});
	$('capply').addEventListener('click', () => {
		set({ from: '' + Date.parse($('cfrom').value), to: '' + Date.parse($('cto').value) });
		show();
	});
	$('d-profile').addEventListener('change', () => { set({ p: $('d-profile').value, s0: '', s1: '' }); show(); });
	$('d-metric').addEventListener('change', () => { set({ m: $('d-metric').value }); show(); });
	for (const b of document.querySelectorAll('[data-move]')) b.addEventListener('click', () => {
		const sel = selection() || [Date.now() - SLOT, Date.now()];
		const last = Math.floor(Date.now() / SLOT) * SLOT - SLOT;
		const width = sel[1] - sel[0];
		const s = b.dataset.move === 'end' ? last - width + SLOT : sel[0] + (+b.dataset.move) * SLOT;
		selectWindow([s, s + width]);
	});
	for (const r of document.querySelectorAll('input[name=d-sum]'))
		r.addEventListener('change', () => { set({ sum: r.value }); summary(); });
	for (const r of document.querySelectorAll('input[name=d-mode]'))
		r.addEventListener('change', () => { readForm(); syncForm(); });
	$('d-format').addEventListener('change', () => { readForm(); syncForm(); });
	$('d-form').addEventListener('submit', (ev) => { ev.preventDefault(); readForm(); process(); });
	$('g-form').addEventListener('submit', (ev) => {
		ev.preventDefault();
		set({ gf: $('g-filter').value, p: $('g-profile').value, gb: $('g-bucket').value,
			gm: $('g-metric').value, ov: $('g-overlay').value });
		graph();
	});
	$('g-save').addEventListener('click', saveProfile);
	$('t-form').addEventListener('submit', (ev) => {
		ev.preventDefault();
		set({ tf: $('t-filter').value, p: $('t-profile').value, ts: $('t-stat').value,
			to_: $('t-order').value, tn: $('t-n').value, tb: $('t-bucket').value });
		topn();
	});
	window.addEventListener('hashchange', () => { readState(); show(); });
	setInterval(poll, 30000);
}

readState();
wire();
start();
