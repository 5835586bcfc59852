#!/bin/sh
# test/bench/import_bench.sh: nfpg-import's speed (a benchmark, not a test:
# it asserts nothing but that every flow arrived).
#
#   FLOWS=1000000 test/bench/import_bench.sh        (default, a few minutes)
#   FLOWS=10000000 test/bench/import_bench.sh       (the issue's hour of 10M)
#   COMPRESS=-z|-y|-j|none                          (nfcapd's; default -y, LZ4,
#                                                    NfSen's default)
#
# Run as an ordinary user (PostgreSQL refuses root), with PG_CONFIG pointing
# at a PostgreSQL where nfpg is installed; needs nfdump (nfcapd), bc and
# /usr/bin/time.  As root, after test/check.sh:
#   cd $NFPG_WORK && runuser -u postgres -- env PG_CONFIG=$PG_CONFIG \
#       FLOWS=... sh test/bench/import_bench.sh
#
# 1. flowgen sends FLOWS NetFlow v9 flows to a real nfcapd, whose files are
#    merged into one (nfdump -R ... -w, with the same compression).
# 2. Decode: `nfdump -r FILE -o null` against `nfpg-import -n -r FILE` (read,
#    decompress and decode every record into a row; no COPY encoding, no
#    database), CPU seconds (user + system, all threads: nfdump 1.7 reads and
#    decompresses in threads of its own) and wall seconds, best of RUNS.
# 3. End to end: nfpg-import -r FILE into nfpg.flows (wall seconds, the
#    import's own CPU), against the database's COPY rate
#    on the same rows: COPY nfpg.flows FROM a binary file of them (server
#    side, no client at all), each into a fresh nfpg.flows.
# Rates are flows per second.  On a shared machine compare CPU seconds.
. "$(dirname "$0")/../lib.sh"

FLOWS=${FLOWS:-1000000}
RUNS=${RUNS:-3}
COMPRESS=${COMPRESS:--y}
NFCAPD_PID=

cleanup() {
	[ -n "$NFCAPD_PID" ] && kill "$NFCAPD_PID" 2>/dev/null
	t_cleanup
}
trap cleanup EXIT INT TERM

# best CMD...: "wall cpu" seconds of CMD, the run with the least CPU of RUNS.
best() {
	b=
	i=0
	while [ $i -lt "$RUNS" ]; do
		/usr/bin/time -f '%e %U %S' -o "$W/time" "$@" >/dev/null 2>&1 ||
			{ echo "bench: failed: $*" >&2; exit 1; }
		t=$(awk '{print $1, $2 + $3}' "$W/time")
		if [ -z "$b" ] || [ "$(echo "${t#* } < ${b#* }" | bc)" -eq 1 ]; then b=$t; fi
		i=$((i + 1))
	done
	echo "$b"
}

rate() { echo "scale=0; $FLOWS / $1" | bc; }

pg_start || { echo "bench: cannot start PostgreSQL" >&2; exit 1; }
pg_loader_role
W=$T_DIR/bench
mkdir -p "$W/cap"
[ "$COMPRESS" = none ] && COMPRESS=
echo "# $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg); $(nfdump -V)"
echo "# generating $FLOWS flows (flowgen v9 -> nfcapd ${COMPRESS:-uncompressed}) ..."
port=$(free_port)
start_nfcapd "$W/cap" "$port" $COMPRESS
$FLOWGEN --count "$FLOWS" --format v9 --dest 127.0.0.1:"$port" --rate 100000 -q
stop_nfcapd "$port"
nfdump -R "$W/cap" $COMPRESS -w "$W/all.nf" >/dev/null
stored=$(nfdump -r "$W/all.nf" -I | awk '/^Flows:/ {print $2}')
echo "# nfcapd stored $stored flows; the file: $(stat -c %s "$W/all.nf") bytes"

# 2. decode
set -- $(best nfdump -q -r "$W/all.nf" -o null)
nd_wall=$1 nd_cpu=$2
set -- $(best "$NFPG_IMPORT" -n -q -r "$W/all.nf")
ni_wall=$1 ni_cpu=$2
printf '%-34s %8s %8s %12s %12s\n' decode "wall s" "CPU s" "flows/s wall" "flows/s CPU"
printf '%-34s %8.2f %8.2f %12s %12s\n' "nfdump -r FILE -o null" "$nd_wall" "$nd_cpu" \
	"$(rate "$nd_wall")" "$(rate "$nd_cpu")"
printf '%-34s %8.2f %8.2f %12s %12s\n' "nfpg-import -n -r FILE" "$ni_wall" "$ni_cpu" \
	"$(rate "$ni_wall")" "$(rate "$ni_cpu")"

# 3. end to end, then the same rows by server-side COPY
CONN="host=127.0.0.1 port=$PGPORT dbname=nfpg user=nfpgd"
/usr/bin/time -f '%e %U %S' -o "$W/time" "$NFPG_IMPORT" -q -d "$CONN" -r "$W/all.nf" 2>"$W/import.log" ||
	{ echo "bench: import failed" >&2; cat "$W/import.log"; exit 1; }
set -- $(cat "$W/time")
imp_wall=$1 imp_cpu=$(echo "$2 + $3" | bc)
loaded=$(q "SELECT count(*) FROM nfpg.flows")
[ "$loaded" = "$stored" ] || echo "bench: WARNING: $loaded rows loaded, nfcapd stored $stored" >&2

q "COPY (SELECT * FROM nfpg.flows) TO '$W/rows.bin' (FORMAT binary)" >/dev/null
copy_wall=
i=0
while [ $i -lt "$RUNS" ]; do
	q "TRUNCATE nfpg.flows" >/dev/null
	s=$(date +%s.%N)
	q "COPY nfpg.flows FROM '$W/rows.bin' (FORMAT binary)" >/dev/null
	t=$(echo "$(date +%s.%N) - $s" | bc)
	if [ -z "$copy_wall" ] || [ "$(echo "$t < $copy_wall" | bc)" -eq 1 ]; then copy_wall=$t; fi
	i=$((i + 1))
done
printf '\n%-34s %8s %8s %12s\n' "end to end" "wall s" "CPU s" "flows/s wall"
printf '%-34s %8.2f %8.2f %12s\n' "nfpg-import -r FILE" "$imp_wall" "$imp_cpu" "$(rate "$imp_wall")"
printf '%-34s %8.2f %8s %12s\n' "COPY nfpg.flows FROM (server file)" "$copy_wall" "-" "$(rate "$copy_wall")"
printf '%-34s %8.2f\n' "import wall / COPY wall" "$(echo "scale=3; $imp_wall / $copy_wall" | bc)"
sed 's/^/# /' "$W/import.log"
