#!/bin/sh
# test/bench/ingest_bench.sh: ingest throughput, nfpgd next to nfcapd.
#
#   sh test/bench/ingest_bench.sh            (as an unprivileged user, extension installed)
#
# One flowgen NetFlow v9 stream (4 exporters) is written to a pcap once and
# replayed with udpreplay (sendmmsg, paced) at increasing rates, each time
# into a fresh nfcapd (-B 4 MiB) and into nfpgd (rcvbuf 4 MiB) loading a
# private PostgreSQL cluster.  For each rate it prints what each collector
# stored; at the end, the highest rate each received with zero loss and the
# flows per second that reached the table (sent -> last row committed).
# Rate 0 is "as fast as udpreplay can send".
#
# Environment: NFPG_BENCH_COUNT (flows, default 1000000), NFPG_BENCH_RATES
# (default "250000 500000 1000000 1400000 2000000 0"), NFPG_BENCH_WRITERS
# (nfpgd writers, default 2), NFPG_BENCH_LOOPS (the pcap is replayed this
# many times back to back, default 1: a sustained stream without a bigger
# pcap), NFPG_BENCH_NFPGD_OPTS (more nfpgd flags, e.g. "-o queue_size=1G"),
# NFPG_BENCH_DIR (pcap cache, default test/bench/data).  The cluster runs with lib.sh's settings (fsync off).
set -u
. "$(cd "$(dirname "$0")/.." && pwd)/lib.sh"

N=${NFPG_BENCH_COUNT:-1000000}
RATES=${NFPG_BENCH_RATES:-"250000 500000 1000000 1400000 2000000 0"}
WRITERS=${NFPG_BENCH_WRITERS:-2}
NFPGD_OPTS=${NFPG_BENCH_NFPGD_OPTS:-}
LOOPS=${NFPG_BENCH_LOOPS:-1}
TOTAL=$((N * LOOPS))
DATA=${NFPG_BENCH_DIR:-$NFPG_TOP/test/bench/data}
PCAP=$DATA/v9_$N.pcap
mkdir -p "$DATA"
[ -s "$PCAP" ] || $FLOWGEN --count "$N" --seed 3 --format v9 --exporters 4 --pcap "$PCAP" -q
REPLAY=$DATA/udpreplay
[ -x "$REPLAY" ] || cc -O2 -o "$REPLAY" "$NFPG_TOP/test/tools/udpreplay.c"

pg_start >/dev/null || { echo "cannot start PostgreSQL"; exit 1; }
pg_loader_role
q "ALTER SYSTEM SET shared_buffers = '1GB'" >/dev/null
q "ALTER SYSTEM SET max_wal_size = '8GB'" >/dev/null
"$PGBIN/pg_ctl" -D "$T_DIR/data" -w restart >/dev/null
q "SELECT nfpg.ensure_partitions('2024-03-11 09:00+00', '2024-03-11 10:00+00')" >/dev/null

RESULTS=$T_DIR/results
: >"$RESULTS"

# CPU seconds (user + system) a running process has used so far.
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$1/stat"; }

nfcapd_trial() {	# nfcapd_trial RATE: prints "stored cpu-seconds"
	dir=$T_DIR/nfcapd.$1; rm -rf "$dir"; mkdir -p "$dir"
	port=$(free_port)
	nfcapd -w "$dir" -p "$port" -b 127.0.0.1 -B 4194304 -t 3600 >"$dir.log" 2>&1 & npid=$!
	sleep 1
	"$REPLAY" "$PCAP" 127.0.0.1 "$port" "$1" "$LOOPS" >"$dir.replay" 2>&1
	sleep 2; cpu=$(cpu_of "$npid"); kill "$npid"; wait "$npid" 2>/dev/null
	echo "$(nfdump -R "$dir" -I 2>/dev/null | awk '/^Flows:/ {print $2; exit}') $cpu"
}

loaded() { q "SELECT coalesce(sum(flows), 0) FROM nfpg.loader_batches"; }

# nfpgd_trial RATE: prints "stored seconds-to-table dropped cpu-seconds
# committed-while-sending seconds-sending"
nfpgd_trial() {
	q "TRUNCATE nfpg.flows, nfpg.loader_batches" >/dev/null
	spool=$T_DIR/spool.$1; rm -rf "$spool"
	port=$(free_port)
	# flush_interval: the last, partial batch of a 4-second stream should not
	# wait a whole second.
	"$NFPGD" -l "127.0.0.1:$port" -s "$spool" -B 4M -o writers="$WRITERS" -o stats_interval=5 \
		-o flush_interval=100 $NFPGD_OPTS \
		-d "host=$PGHOST port=$PGPORT dbname=nfpg user=nfpgd" 2>"$T_DIR/nfpgd.$1.log" & lpid=$!
	sleep 1
	t0=$(date +%s.%N)
	"$REPLAY" "$PCAP" 127.0.0.1 "$port" "$1" "$LOOPS" >"$T_DIR/nfpgd.$1.replay" 2>&1
	t_sent=$(date +%s.%N); n_sent=$(loaded)
	# Until every flow is in, or nothing moved for 10 s.
	last=-1; still=0; n=0
	while [ "$still" -lt 100 ]; do
		n=$(loaded)
		[ "$n" -ge "$TOTAL" ] && break
		if [ "$n" = "$last" ]; then still=$((still + 1)); else still=0; last=$n; fi
		sleep 0.1
	done
	t1=$(date +%s.%N)
	cpu=$(cpu_of "$lpid"); kill "$lpid"; wait "$lpid"
	drops=$(sed -n 's/.* \([0-9]*\) dropped datagrams.*/\1/p' "$T_DIR/nfpgd.$1.log")
	echo "$(loaded) $(echo "$t1 - $t0" | bc) ${drops:-?} $cpu $n_sent $(echo "$t_sent - $t0" | bc)"
}

# to table/s: all flows / (first datagram sent -> last row committed);
# while sending: committed before the sender finished / sending time;
# backlog: the rest / (sender finished -> last row committed).
FMT="%-8s %-8s | %-8s %-7s %-6s | %-8s %-7s %-6s %-6s %-10s %-10s %-10s\n"
printf "$FMT" "rate" "sent/s" "nfcapd" "loss" "cpu s" "nfpgd" "loss" "drops" "cpu s" "to table/s" \
	"w/ sending" "backlog/s"
for rate in $RATES; do
	set -- $(nfcapd_trial "$rate")
	c=$1 ccpu=$2
	set -- $(nfpgd_trial "$rate")
	p=$1 secs=$2 drops=$3 pcpu=$4 psent=$5 ssecs=$6
	sent=$(sed -n 's/.*(\([0-9]*\) flows\/s).*/\1/p' "$T_DIR/nfpgd.$rate.replay")
	tps=$(echo "$p / $secs" | bc)
	during=$(echo "$psent / $ssecs" | bc)
	backlog=$(echo "if ($secs > $ssecs + 0.2) ($p - $psent) / ($secs - $ssecs) else 0" | bc)
	printf "$FMT" "$rate" "${sent:-?}" "$c" "$((TOTAL - ${c:-0}))" "$ccpu" "$p" "$((TOTAL - p))" "$drops" \
		"$pcpu" "$tps" "$during" "$backlog"
	echo "$rate $c $p $tps" >>"$RESULTS"
done
# Zero-loss rate as reference/baselines.md defines it: the highest paced
# rate such that this and every lower rate lost nothing (rates ascending).
awk -v n="$TOTAL" '
	$1 != 0 { if ($2 == n && cok == 0) cz = $1; else cok = 1
			  if ($3 == n && pok == 0) pz = $1; else pok = 1 }
	$1 == 0 { cu = ($2 == n); pu = ($3 == n) }
	$4 > best { best = $4 }
	END {
		printf "highest zero-loss rate (all lower rates lossless too): nfcapd %s, nfpgd %s flows/s\n",
			cz ? cz : "none", pz ? pz : "none";
		printf "unpaced: nfcapd %s, nfpgd %s\n", cu ? "no loss" : "loss", pu ? "no loss" : "loss";
		printf "best flows/s into the table (nfpgd): %d\n", best
	}' "$RESULTS"
echo "machine: $(nproc) cores, $(uname -r); flows: $N x $LOOPS; nfpgd writers: $WRITERS"
