#!/bin/sh
# test/fuzz/run.sh: build and run the libFuzzer harness of each decoder.
#
#   test/fuzz/run.sh [SECONDS] [DECODER...]     DECODER: v1 v5 v7 v9 ipfix sflow
#
# Each decoder runs SECONDS (default 300) on one core under AddressSanitizer
# and UBSan, starting from test/fuzz/seeds/<decoder> and growing
# test/fuzz/corpus/<decoder> (kept in git, minimised with -merge=1 after the
# run).  Crashes land in test/fuzz/findings/.  Needs clang with libFuzzer
# (Debian: clang-14).  The issue asks for 30 minutes each: run.sh 1800.
set -eu
cd "$(dirname "$0")"
SECS=${1:-300}
[ $# -gt 0 ] && shift
DECODERS=${*:-v1 v5 v7 v9 ipfix sflow}
CC=${CC:-clang}
SRCS="../../loader/decode.c ../../loader/netflow_v5.c ../../loader/netflow_v9.c \
../../loader/ipfix.c ../../loader/sflow.c ../../loader/templates.c ../../loader/elements.c"
mkdir -p findings
[ -d seeds/v1 ] || python3 mkseeds.py

for d in $DECODERS; do
	case $d in
		v1) v=1 ;; v5) v=5 ;; v7) v=7 ;; v9) v=9 ;; ipfix) v=10 ;; sflow) v=0x85 ;;
		*) echo "unknown decoder $d" >&2; exit 2 ;;
	esac
	$CC -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
		-DFUZZ_VERSION=$v -I../../loader -o ${d}_fuzz decode_fuzz.c $SRCS
	mkdir -p corpus/$d
	echo "== $d: $SECS s"
	./${d}_fuzz -max_total_time="$SECS" -max_len=8192 -timeout=10 -rss_limit_mb=1024 \
		-print_final_stats=1 -artifact_prefix=findings/${d}- corpus/$d seeds/$d
	mkdir -p corpus/$d.min
	./${d}_fuzz -merge=1 corpus/$d.min corpus/$d >/dev/null 2>&1
	rm -rf corpus/$d && mv corpus/$d.min corpus/$d
done
