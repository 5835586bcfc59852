#!/bin/sh
# test/fuzz/run.sh: build and run the libFuzzer harness of each decoder.
#
#   test/fuzz/run.sh [SECONDS] [DECODER...]     DECODER: v1 v5 v7 v9 ipfix sflow nfcapd
#
# nfcapd is the nfcapd file reader of nfpg-import (nfcapd_fuzz.c, whole files;
# its seeds are committed, not made by mkseeds.py).
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
NFCAPD_SRCS="../../cli/nfcapd_read.c ../../cli/nfcapd_codec.c ../../cli/nfcapd_v1.c ../../cli/nfcapd_v3.c"
mkdir -p findings
[ -d seeds/v1 ] || python3 mkseeds.py

for d in $DECODERS; do
	maxlen=8192
	case $d in
		v1) v=1 ;; v5) v=5 ;; v7) v=7 ;; v9) v=9 ;; ipfix) v=10 ;; sflow) v=0x85 ;;
		nfcapd) v= ;;
		*) echo "unknown decoder $d" >&2; exit 2 ;;
	esac
	if [ "$d" = nfcapd ]; then
		# whole files, so room for a few blocks
		maxlen=65536
		$CC -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
			-I../../loader -I../../cli -o nfcapd_fuzz nfcapd_fuzz.c $NFCAPD_SRCS \
			-llzo2 -lbz2 -llz4 -lzstd
	else
		$CC -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
			-DFUZZ_VERSION=$v -I../../loader -o ${d}_fuzz decode_fuzz.c $SRCS
	fi
	mkdir -p corpus/$d
	echo "== $d: $SECS s"
	./${d}_fuzz -max_total_time="$SECS" -max_len=$maxlen -timeout=10 -rss_limit_mb=1024 \
		-print_final_stats=1 -artifact_prefix=findings/${d}- corpus/$d seeds/$d
	mkdir -p corpus/$d.min
	./${d}_fuzz -merge=1 corpus/$d.min corpus/$d >/dev/null 2>&1
	rm -rf corpus/$d && mv corpus/$d.min corpus/$d
done
