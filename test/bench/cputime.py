#!/usr/bin/env python3
"""cputime.py POSTMASTER_PID RUNS COMMAND: CPU seconds (user + system) that
COMMAND costs per run, counting the command itself (and its threads) and,
for psql, the PostgreSQL backend and parallel workers that served it: those
are children of the postmaster, whose cutime/cstime grow by their CPU time
when they exit.  On a machine shared with other work, CPU time is steadier
than wall time."""
import os
import resource
import subprocess
import sys
import time


def postmaster_children_cpu(pid):
    with open('/proc/%s/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    tick = os.sysconf('SC_CLK_TCK')
    return (int(fields[13]) + int(fields[14])) / tick     # cutime, cstime


def main():
    pid, runs, cmd = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    own0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    pg0 = postmaster_children_cpu(pid)
    for _ in range(runs):
        subprocess.run(['sh', '-c', cmd], check=True, stdout=subprocess.DEVNULL)
    time.sleep(0.5)         # let the postmaster reap the last backend
    own1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    pg1 = postmaster_children_cpu(pid)
    own = (own1.ru_utime - own0.ru_utime) + (own1.ru_stime - own0.ru_stime)
    print('%.3f' % ((own + pg1 - pg0) / runs))


main()
