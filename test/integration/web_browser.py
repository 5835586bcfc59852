#!/usr/bin/env python3
"""web_browser.py: headless Chromium drives nfpg-web's page (run by web_browser.sh).

    web_browser.py URL FROM_MS TO_MS ARTIFACT_DIR

The database and nfpg-web are set up by web_browser.sh; roles (password
over TCP, as the page uses them):
    web_reader  member of nfpg_reader
    web_tcp     member of nfpg_reader, under a row-level security policy
                that shows it TCP flows only
    web_nocol   may read every column of nfpg.flows but src_addr/dst_addr
What the page shows is compared with what psql shows the same role
(connecting over TCP with the same password): the truth is the database,
read independently of nfpg-web.  Prints "ok - ..." / "not ok - ..." lines.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from webdriver import Browser, WebDriverError  # noqa: E402

URL, FROM_MS, TO_MS, ART = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
PGPORT = os.environ["PGPORT"]
PASSWORDS = {"web_reader": "reader-pw", "web_tcp": "tcp-pw", "web_nocol": "nocol-pw"}
SLOT = 300000
failed = 0


def check(what, cond, detail=""):
    global failed
    if cond:
        print("ok - " + what)
    else:
        failed += 1
        print("not ok - %s%s" % (what, (": " + detail) if detail else ""))


def psql(sql, role=None):
    """Rows (lists of text) of sql, as role over TCP with its password, or as the test's superuser."""
    env = dict(os.environ, PGTZ="UTC")
    cmd = ["psql", "-qXAt", "-F", "|", "-v", "ON_ERROR_STOP=1", "-c", sql]
    if role:
        env["PGPASSWORD"] = PASSWORDS[role]
        cmd += ["-h", "127.0.0.1", "-p", PGPORT, "-U", role, "-d", "nfpg"]
    r = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr.strip())
    return [line.split("|") for line in r.stdout.splitlines()]


def psql_error(sql, role=None):
    try:
        psql(sql, role)
        return None
    except RuntimeError as e:
        return str(e)


def ts(ms):
    return "to_timestamp(%d / 1000.0)" % ms


def login(b, role):
    b.get(URL + "/")
    b.run("document.cookie = ''")
    state = b.wait("return document.body.dataset.ready === 'login' || document.body.dataset.ready === 'yes' ? document.body.dataset.ready : ''")
    if state == "yes":
        b.click(b.find("#logout"))
        b.wait("return document.body.dataset.ready === 'login'")
    b.type(b.find("input[name=user]"), role)
    b.type(b.find("input[name=password]"), PASSWORDS[role])
    b.click(b.find("#loginform button"))
    b.wait("return document.body.dataset.ready === 'yes'")


def open_view(b, fragment):
    """Load the page with a state fragment, as a shared link would."""
    b.get(URL + "/#" + fragment)
    b.run("location.reload()")
    b.wait("return document.body.dataset.ready === 'yes'")


def result_done(b):
    b.wait("return document.getElementById('d-result').dataset.state === 'done'")


def stat_rows(b):
    """The Top-N table as dicts by column title; counters without their percentage."""
    rows = b.run("""const t = document.getElementById('d-stat-table');
        const head = [...t.tHead.rows[0].cells].map(c => c.innerText);
        return [...t.tBodies[0].rows].map(r => Object.fromEntries([...r.cells].map((c, i) => [head[i], c.innerText])))""")
    return [{k: v.split(" ")[0].replace(",", "") for k, v in r.items()} for r in rows]


def flow_lines(b):
    """The nf_format lines shown (without the AS links the page adds after each)."""
    return b.run("""const p = document.getElementById('d-flow-list'); if (!p) return null;
        return [...p.querySelectorAll('span.line')].map(s => {
            const as = s.querySelector('span.as'); return s.innerText.slice(0, s.innerText.length - (as ? as.innerText.length : 0)); })""")


WINDOW = "span=custom&from=%d&to=%d" % (FROM_MS, TO_MS)

with Browser(log=open(os.path.join(ART, "chromedriver.log"), "w")) as b:
    # -- 1. overview: every protocol series equals profile_series as rates
    login(b, "web_reader")
    open_view(b, WINDOW)
    b.screenshot(os.path.join(ART, "overview.png"))
    for metric, col in (("flows", "flows"), ("packets", "packets"), ("bits", "bytes")):
        drawn = b.run("""const c = nfpgCharts['o-live-' + arguments[0]]; if (!c) return null;
            return c.data.datasets.map(d => [d.label, d.data.map(p => [p.x, p.y])])""", metric)
        if drawn is None:
            check("overview draws the live %s chart" % metric, False)
            continue
        check("overview %s: one series per protocol" % metric,
              [d[0] for d in drawn] == ["TCP", "UDP", "ICMP", "other"], str([d[0] for d in drawn]))
        mult = "* 8" if metric == "bits" else ""
        for (label, points), proto in zip(drawn, ("tcp", "udp", "icmp", "other")):
            truth = psql("""SELECT (extract(epoch FROM slot) * 1000)::bigint + 150000,
                            %s_%s::float8 %s / 300 FROM nfpg.profile_series
                            WHERE profile = 'live' AND channel = '*' AND slot >= %s AND slot < %s
                            ORDER BY slot""" % (col, proto, mult, ts(FROM_MS), ts(TO_MS)), "web_reader")
            want = [(int(x), float(y)) for x, y in truth]
            got = [(int(x), float(y)) for x, y in points]
            same = len(want) == len(got) and all(
                a[0] == c[0] and abs(a[1] - c[1]) <= 1e-9 * max(1.0, abs(a[1])) for a, c in zip(want, got))
            check("overview %s %s: %d points equal profile_series rates" % (metric, label, len(want)),
                  same and len(want) == (TO_MS - FROM_MS) // SLOT, "want %s.. got %s.." % (want[:2], got[:2]))

    # channels: above the axis for sign +1, below for -1, equal to their series
    drawn = b.run("""const c = nfpgCharts['o-https-channels'];
        return c ? c.data.datasets.map(d => [d.label, d.data.map(p => p.y)]) : null""")
    truth = {ch: [float(v) for (v,) in psql("SELECT bits_s FROM (SELECT slot, bytes::float8 * 8 / 300 AS bits_s FROM nfpg.profile_series"
                                             " WHERE profile = 'https' AND channel = '%s' AND slot >= %s AND slot < %s) s ORDER BY slot"
                                             % (ch, ts(FROM_MS), ts(TO_MS)), "web_reader")]
             for ch in ("requests", "responses")}
    check("overview channels: requests above the axis, responses below, equal to their series",
          drawn is not None and [d[0] for d in drawn] == ["requests", "responses (-)"]
          and drawn[0][1] == truth["requests"] and drawn[1][1] == [-v for v in truth["responses"]]
          and len(truth["requests"]) == 12 and any(v > 0 for v in truth["responses"]), str(drawn)[:200])

    # a newly built slot redraws a relative span (the page polls /api/lastslot)
    open_view(b, "span=24h")
    before = b.run("return nfpgCharts['o-live-flows'].data.datasets[0].data.length")
    b.run_async("poll().then(arguments[arguments.length - 1])")
    psql("SELECT nfpg.nf_profile_build('live', %s, %s)" % (ts(TO_MS), ts(TO_MS + SLOT)))
    b.run_async("poll().then(arguments[arguments.length - 1])")
    b.wait("return document.body.dataset.ready === 'yes'")
    after = b.run("return nfpgCharts['o-live-flows'].data.datasets[0].data.length")
    check("a new slot is drawn after the next poll (%s -> %s points)" % (before, after), after == before + 1)

    # -- 2. details: click a slot, Top-N -s ip/bytes = nf_stat for that slot
    open_view(b, WINDOW + "&v=details&mode=stat&stat=ip&order=bytes&n=10")
    result_done(b)
    slot = FROM_MS + 5 * SLOT
    canvas = b.find("#d-chart")
    x, y = b.run("""const c = nfpgCharts['d-chart'];
        return [c.scales.x.getPixelForValue(arguments[0] + 150000), (c.chartArea.top + c.chartArea.bottom) / 2]""", slot)
    b.click_at(canvas, x, y)
    b.wait("return location.hash.includes('s0=' + arguments[0])", 10, slot)
    result_done(b)
    b.wait("return document.getElementById('d-stat-table')")
    check("clicking the chart selects the slot under the pointer",
          "s1=%d" % (slot + SLOT) in b.run("return location.hash"))
    b.screenshot(os.path.join(ART, "details-topn.png"))
    page = [[r["rank"], r["ip"], r["flows"], r["packets"], r["bytes"]] for r in stat_rows(b)]
    truth = psql("SELECT rank, value, flows, packets, bytes FROM nfpg.nf_stat('ip', 'bytes', 10, 'any', %s, %s)"
                 % (ts(slot), ts(slot + SLOT)), "web_reader")
    check("Top-N -s ip/bytes of the clicked slot: %d rows equal nf_stat" % len(truth),
          page == truth and len(truth) == 10, "page %s vs nf_stat %s" % (page[:2], truth[:2]))
    summary = b.run("return [...document.querySelectorAll('#d-summary tbody tr')].map(r => [...r.cells].map(c => c.innerText.replace(/,/g, '')))")
    series = psql("SELECT '*', flows, flows_tcp, flows_udp, flows_icmp, flows_other FROM nfpg.profile_series "
                  "WHERE profile = 'live' AND channel = '*' AND slot = %s" % ts(slot), "web_reader")
    check("the slot's summary table equals profile_series", [r[:6] for r in summary] == series,
          "%s vs %s" % (summary, series))

    # -- 3. a bad filter shows nf_filter's error position
    bad = "proto tcp and dst port 80 and bogus"
    err = psql_error("SELECT nfpg.nf_filter_sql('%s')" % bad, "web_reader")
    want_pos = re.search(r"position (\d+)", err or "")
    f = b.find("#d-filter")
    b.clear(f)
    b.type(f, bad)
    b.click(b.find("#d-run"))
    result_done(b)
    got_pos = b.run("const p = document.querySelector('#d-filtererror pre.caret'); return p ? p.dataset.position : null")
    check("a bad filter shows the error position nf_filter reports (%s)" % (want_pos.group(1) if want_pos else "?"),
          want_pos is not None and got_pos == want_pos.group(1), "page %s, psql: %s" % (got_pos, err))
    caret = b.run("return document.querySelector('#d-filtererror pre.caret').innerText.split('\\n')")
    check("the caret stands under the offending word",
          len(caret) == 2 and caret[0][caret[1].index("^"):].startswith("bogus"), str(caret))
    b.screenshot(os.path.join(ART, "details-error.png"))

    # -- 4. an address link narrows the flow list
    open_view(b, WINDOW + "&v=details&mode=list&lim=1000&s0=%d&s1=%d" % (slot, slot + SLOT * 2))
    result_done(b)
    before = flow_lines(b)
    link = b.find("#d-flow-list a.drill")
    addr = b.text(link)
    b.click(link)
    b.wait("return document.getElementById('d-filter').value === arguments[0]", 10, "src ip " + addr)
    result_done(b)
    after = flow_lines(b)
    truth = psql("SELECT line FROM nfpg.nf_flow_list('src ip %s', %s, %s, 'line', 1000)"
                 % (addr, ts(slot), ts(slot + 2 * SLOT)), "web_reader")
    check("the flow list of the window has rows", before is not None and len(before) > 0)
    check("clicking %s narrows the list to its %d flows (from %d)" % (addr, len(truth), len(before or [])),
          after is not None and 0 < len(after) < len(before) and sorted(after) == sorted(t[0] for t in truth)
          and all(re.search(r"\s%s:" % re.escape(addr), line) for line in after),
          "after %s" % (after[:2] if after else after))
    check("the filter box now says src ip %s" % addr,
          b.run("return document.getElementById('d-filter').value") == "src ip " + addr)
    b.screenshot(os.path.join(ART, "details-list.png"))

    # -- 5. graph a filter: the drawn series is nf_filter_series
    open_view(b, WINDOW + "&v=graph&gf=" + "proto%20udp&gm=packets&ov=prev")
    b.wait("return nfpgCharts['g-chart'] && nfpgCharts['g-chart'].data.datasets.length === 2")
    drawn = b.run("return nfpgCharts['g-chart'].data.datasets[0].data.map(p => [p.x, p.y])")
    truth = psql("SELECT (extract(epoch FROM slot) * 1000)::bigint + 150000, packets_s FROM nfpg.nf_filter_series("
                 "'proto udp', %s, %s, '5 minutes')" % (ts(FROM_MS), ts(TO_MS)), "web_reader")
    check("graph of 'proto udp': %d buckets equal nf_filter_series" % len(truth),
          [(int(x), round(float(y), 9)) for x, y in truth] == [(int(x), round(float(y), 9)) for x, y in drawn])
    b.screenshot(os.path.join(ART, "graph.png"))

    # -- 6. Top-N over time: the stacked keys and Other add up to the total
    open_view(b, WINDOW + "&v=topn&ts=dstport&to_=bytes&tn=5")
    b.wait("return !!nfpgCharts['t-chart']")
    stacks = b.run("""const d = nfpgCharts['t-chart'].data.datasets;
        return d[0].data.map((p, i) => [p.x, d.reduce((s, x) => s + x.data[i].y, 0)])""")
    labels = b.run("return nfpgCharts['t-chart'].data.datasets.map(d => d.label)")
    total = psql("SELECT (extract(epoch FROM slot) * 1000)::bigint + 150000, bits_s FROM nfpg.nf_filter_series("
                 "'any', %s, %s, '5 minutes')" % (ts(FROM_MS), ts(TO_MS)), "web_reader")
    check("Top-N over time: 5 ports and Other", len(labels) == 6 and labels[-1] == "Other", str(labels))
    check("Top-N over time: each bucket's stack equals the bucket's total bits/s",
          all(abs(float(t[1]) - s[1]) <= 1e-6 * max(1.0, float(t[1])) for t, s in zip(total, stacks))
          and len(total) == len(stacks))
    b.screenshot(os.path.join(ART, "topn.png"))

    open_view(b, "v=ops")
    b.wait("return document.querySelectorAll('#o-exporters tbody tr').length > 0")
    exporters = b.run("return document.querySelectorAll('#o-exporters tbody tr').length")
    check("operations: one row per exporter", str(exporters) == psql("SELECT count(*) FROM nfpg.exporters")[0][0])
    b.wait("return document.querySelectorAll('#o-collector tbody tr').length > 0")
    collector = b.run("return document.querySelectorAll('#o-collector tbody tr').length")
    check("operations: nfpgd's counters, as many rows as nfpg.collector_stats shows web_reader",
          str(collector) == psql("SELECT count(*) FROM nfpg.collector_stats", "web_reader")[0][0] and collector >= 1,
          str(collector))
    b.screenshot(os.path.join(ART, "operations.png"))

    # -- 7. row-level security: web_tcp sees TCP only, as in psql
    login(b, "web_tcp")
    open_view(b, WINDOW + "&v=details&mode=stat&stat=proto&order=flows&n=10&s0=%d&s1=%d" % (slot, slot + SLOT))
    result_done(b)
    page = [[r["proto"], r["flows"]] for r in stat_rows(b)]
    truth = psql("SELECT value, flows FROM nfpg.nf_stat('proto', 'flows', 10, 'any', %s, %s)"
                 % (ts(slot), ts(slot + SLOT)), "web_tcp")
    everyone = psql("SELECT value FROM nfpg.nf_stat('proto', 'flows', 10, 'any', %s, %s)"
                    % (ts(slot), ts(slot + SLOT)), "web_reader")
    check("RLS: web_tcp's -s proto is TCP only, as psql shows web_tcp (all roles see %d protocols)" % len(everyone),
          page == truth and [r[0] for r in page] == ["6"] and len(everyone) > 1, "%s vs %s" % (page, truth))
    b.screenshot(os.path.join(ART, "rls-tcp-only.png"))

    # -- 8. column grants: web_nocol cannot see addresses, in the page as in psql
    login(b, "web_nocol")
    open_view(b, WINDOW + "&v=details&mode=stat&stat=ip&order=bytes&n=10&s0=%d&s1=%d" % (slot, slot + SLOT))
    result_done(b)
    shown = b.run("return document.getElementById('d-filtererror').innerText")
    err = psql_error("SELECT * FROM nfpg.nf_stat('ip', 'bytes', 10, 'any', %s, %s)" % (ts(slot), ts(slot + SLOT)), "web_nocol")
    check("column grant: -s ip is refused in the page as in psql",
          err is not None and "permission denied" in shown and "permission denied" in err, "page: %r psql: %r" % (shown, err))
    open_view(b, WINDOW + "&v=details&mode=stat&stat=dstport&order=bytes&n=10&s0=%d&s1=%d" % (slot, slot + SLOT))
    result_done(b)
    page = [[r["dstport"], r["bytes"]] for r in stat_rows(b)]
    truth = psql("SELECT value, bytes FROM nfpg.nf_stat('dstport', 'bytes', 10, 'any', %s, %s)"
                 % (ts(slot), ts(slot + SLOT)), "web_nocol")
    check("column grant: -s dstport works and equals psql", page == truth and len(page) == 10)
    open_view(b, WINDOW + "&v=details&mode=list&lim=20&s0=%d&s1=%d" % (slot, slot + SLOT))
    result_done(b)
    lines = flow_lines(b)
    truth = psql("SELECT nfpg.nf_format(r, 'line') FROM (SELECT first_seen, last_seen, proto, src_port, dst_port,"
                 " packets, bytes, flows FROM nfpg.flows WHERE first_seen >= %s AND first_seen <= %s AND last_seen <= %s"
                 " ORDER BY first_seen LIMIT 20) r" % (ts(slot), ts(slot + SLOT), ts(slot + SLOT)), "web_nocol")
    hidden = psql("SELECT host(src_addr) FROM nfpg.flows WHERE first_seen >= %s AND first_seen <= %s AND last_seen <= %s"
                  " ORDER BY first_seen LIMIT 20" % (ts(slot), ts(slot + SLOT), ts(slot + SLOT)))
    check("column grant: the flow list shows what psql shows web_nocol, no addresses",
          sorted(lines or []) == sorted(t[0] for t in truth) and len(lines) == 20
          and not any(h[0] + ":" in line for h in hidden for line in lines), "%s vs %s" % ((lines or [''])[:1], truth[:1]))
    b.screenshot(os.path.join(ART, "column-grant.png"))

sys.exit(1 if failed else 0)
