#!/usr/bin/env python3
"""interleave.py: time shell commands side by side, interleaved, wall and CPU.

    interleave.py POSTMASTER_PID[,PID...] RUNS JSON_OUT NAME=COMMAND [NAME=COMMAND ...]

Each round runs every command once, in an order rotated from round to round,
so that a change of load on a shared machine falls on all of them alike (a
hyperfine run per command would time one after the other).  One warm-up
round is not counted.

Wall time is the command's.  CPU time is the command's own (user + system,
all its threads) plus, for psql, that of the PostgreSQL backend and parallel
workers that served it: they are children of the postmaster, whose
cutime/cstime grow by a child's CPU when it is reaped.  After each command
the script waits until the postmaster has no children but the ones it had at
the start (checkpointer, walwriter, ...), so each run is charged with its own
processes only.  Several postmasters (two builds side by side, each on its
own cluster) are watched alike.  The load average is sampled before every run.

Writes {name: {"wall": [...], "cpu": [...]}, "load": [...]} to JSON_OUT.
"""
import json
import os
import resource
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
                ppid = f.read().rsplit(')', 1)[1].split()[1]
        except OSError:
            continue
        if ppid == str(pid):
            kids.add(p)
    return kids


def settle(pm, resident):
    """Wait (at most 10 s) until the postmaster has reaped every child that
    is not one of its resident processes."""
    for _ in range(1000):
        if children_of(pm) <= resident:
            return
        time.sleep(0.01)


def run_once(pms, resident, cmd):
    own0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    pg0 = sum(children_cpu(pm) for pm in pms)
    t0 = time.perf_counter()
    subprocess.run(['sh', '-c', cmd], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    for pm in pms:
        settle(pm, resident[pm])
    own1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    pg1 = sum(children_cpu(pm) for pm in pms)
    cpu = (own1.ru_utime - own0.ru_utime) + (own1.ru_stime - own0.ru_stime) + pg1 - pg0
    return wall, cpu


def main():
    pms, runs, out = sys.argv[1].split(','), int(sys.argv[2]), sys.argv[3]
    cmds = [a.split('=', 1) for a in sys.argv[4:]]
    resident = {pm: children_of(pm) for pm in pms}
    res = {name: {'wall': [], 'cpu': []} for name, _ in cmds}
    res['load'] = []
    for rnd in range(runs + 1):
        order = cmds[rnd % len(cmds):] + cmds[:rnd % len(cmds)]
        for name, cmd in order:
            with open('/proc/loadavg') as f:
                load = float(f.read().split()[0])
            wall, cpu = run_once(pms, resident, cmd)
            if rnd > 0:                 # round 0 warms the caches
                res[name]['wall'].append(wall)
                res[name]['cpu'].append(cpu)
                res['load'].append(load)
    with open(out, 'w') as f:
        json.dump(res, f)


main()
