#!/usr/bin/env python3
"""scale_out_runs.py: interleaved runs of commands against several clusters,
with each cluster's CPU and the bytes on each node's wire (scale_out_bench.sh).

    scale_out_runs.py RUNS JSON_OUT CLUSTERS COUNTERS NAME=COMMAND [...]

CLUSTERS is "name:postmaster_pid,..." and COUNTERS "node:counts_file,..."
(the files tcpcount.py rewrites).  Each round runs every command once, in an
order rotated from round to round, so that a change of load on a shared
machine falls on all of them alike; one warm-up round is not counted.

Per run: wall time of the command; for every cluster the CPU its processes
used (the growth of the postmaster's cutime + cstime: a backend or parallel
worker is its child, and its CPU is added there when it is reaped); for
every node the bytes its proxy carried each way.  After each command the
script waits until every postmaster has no children but those it had at
the start, and a moment for the proxies to count the closed connections, so that a run
is charged with its own processes and traffic only: a coordinator's backend
ends its connections to the nodes when it exits, and only then do the
nodes' backends exit.

Writes {name: [{"wall": s, "cpu": {cluster: s}, "down": {node: bytes},
"up": {node: bytes}}, ...], "load": [...]} to JSON_OUT.
"""
import json
import os
import subprocess
import sys
import time

TICK = os.sysconf('SC_CLK_TCK')


def children_cpu(pid):
    with open('/proc/%s/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[13]) + int(fields[14])) / TICK     # cutime, cstime


def children_of(pid):
    kids = set()
    for p in os.listdir('/proc'):
        if not p.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % p) as f:
                if int(f.read().rsplit(')', 1)[1].split()[1]) == pid:
                    kids.add(int(p))
        except (OSError, ValueError, IndexError):
            pass
    return kids


def counts(path):
    with open(path) as f:
        up, down, conns = (int(x) for x in f.read().split())
    return up, down, conns


def main():
    runs, out = int(sys.argv[1]), sys.argv[2]
    clusters = {n: int(p) for n, p in (c.split(':') for c in sys.argv[3].split(','))}
    counters = dict(c.split(':', 1) for c in sys.argv[4].split(',')) if sys.argv[4] else {}
    cmds = [a.split('=', 1) for a in sys.argv[5:]]
    base = {n: children_of(p) for n, p in clusters.items()}
    res = {name: [] for name, _ in cmds}
    res['load'] = []
    for rnd in range(runs + 1):
        k = rnd % len(cmds)
        for name, cmd in cmds[k:] + cmds[:k]:
            res['load'].append(float(open('/proc/loadavg').read().split()[0]))
            cpu0 = {n: children_cpu(p) for n, p in clusters.items()}
            c0 = {n: counts(f) for n, f in counters.items()}
            t0 = time.monotonic()
            subprocess.run(cmd, shell=True, check=True, stdout=subprocess.DEVNULL)
            wall = time.monotonic() - t0
            for _ in range(500):         # the backends of this run reaped
                if all(children_of(p) <= base[n] for n, p in clusters.items()):
                    break
                time.sleep(0.01)
            time.sleep(0.05)             # the proxies count a connection as it closes
            c1 = {n: counts(f) for n, f in counters.items()}
            if rnd == 0:
                continue
            res[name].append({
                'wall': wall,
                'cpu': {n: children_cpu(p) - cpu0[n] for n, p in clusters.items()},
                'down': {n: c1[n][1] - c0[n][1] for n in counters},
                'up': {n: c1[n][0] - c0[n][0] for n in counters},
            })
    with open(out, 'w') as f:
        json.dump(res, f)


main()
