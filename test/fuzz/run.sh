#!/bin/sh
# test/fuzz/run.sh: build and run nfpg's libFuzzer harnesses.
#
#   test/fuzz/run.sh [SECONDS] [TARGET...]
#
# TARGET:
#   v1 v5 v7 v9 ipfix sflow   one decoder each (decode_fuzz.c)
#   templates                 v9/IPFIX template caches across exporters (template_fuzz.c)
#   filter                    the nfdump filter parser (filter_fuzz.c)
#   nfcapd                    nfpg-import's nfcapd file reader, whole files
#                             (nfcapd_fuzz.c; seeds committed, not from mkseeds.py)
#   filter-sql                parse + plan + deparse against a private PostgreSQL
#                             (filter_sql_fuzz.c; needs the extension installed
#                             in PG_CONFIG's PostgreSQL and a non-root user)
# Default: every target but filter-sql.
#
# Each target runs SECONDS (default 300) on one core under AddressSanitizer
# and UBSan, starting from test/fuzz/seeds/<target> and growing
# test/fuzz/corpus/<target> (kept in git, minimised with -merge=1 after the
# run).  Crashes land in test/fuzz/findings/ and stop the run.  Needs clang
# with libFuzzer (Debian: clang-14).  The issues ask for 30 minutes each:
# run.sh 1800 TARGET.  Run it under nice -n 19 on a shared machine.
set -eu
cd "$(dirname "$0")"
SECS=${1:-300}
[ $# -gt 0 ] && shift
TARGETS=${*:-v1 v5 v7 v9 ipfix sflow templates filter nfcapd}
CC=${CC:-clang}
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
DECODERS="../../loader/decode.c ../../loader/netflow_v5.c ../../loader/netflow_v9.c \
../../loader/ipfix.c ../../loader/sflow.c ../../loader/templates.c ../../loader/elements.c"
FILTER="../../extension/filter_lex.c ../../extension/filter_addr.c ../../extension/filter_prim.c \
../../extension/filter_prim_more.c ../../extension/filter_parse.c ../../extension/protocols.c"
NFCAPD="../../cli/nfcapd_read.c ../../cli/nfcapd_codec.c ../../cli/nfcapd_v1.c ../../cli/nfcapd_v3.c"
mkdir -p findings
[ -d seeds/templates ] || python3 mkseeds.py

for t in $TARGETS; do
	opts="-max_len=8192 -timeout=10"
	case $t in
		v1|v5|v7|v9|ipfix|sflow)
			case $t in
				v1) v=1 ;; v5) v=5 ;; v7) v=7 ;; v9) v=9 ;; ipfix) v=10 ;; sflow) v=0x85 ;;
			esac
			$CC $CFLAGS -DFUZZ_VERSION=$v -I../../loader -o ${t}_fuzz decode_fuzz.c $DECODERS ;;
		templates)
			opts="-max_len=16384 -timeout=10"
			$CC $CFLAGS -I../../loader -o templates_fuzz template_fuzz.c $DECODERS ;;
		filter)
			opts="-timeout=5 -dict=filter.dict"
			$CC $CFLAGS -I../../extension -o filter_fuzz filter_fuzz.c $FILTER ;;
		nfcapd)
			opts="-max_len=65536 -timeout=10"
			$CC $CFLAGS -I../../loader -I../../cli -o nfcapd_fuzz nfcapd_fuzz.c $NFCAPD \
				-llzo2 -lbz2 -llz4 -lzstd ;;
		filter-sql)
			opts="-timeout=30 -dict=filter.dict"
			PGINC=$("${PG_CONFIG:-pg_config}" --includedir)
			PGLIB=$("${PG_CONFIG:-pg_config}" --libdir)
			$CC $CFLAGS -I../../extension -I"$PGINC" -o filter-sql_fuzz filter_sql_fuzz.c $FILTER \
				-L"$PGLIB" -lpq
			. ./filter_sql_server.sh
			fuzz_server_start ;;
		*) echo "unknown target $t" >&2; exit 2 ;;
	esac
	mkdir -p corpus/$t
	seeds=seeds/$t
	[ -d "$seeds" ] || seeds=seeds/filter
	echo "== $t: $SECS s"
	./${t}_fuzz -max_total_time="$SECS" $opts -rss_limit_mb=1024 \
		-print_final_stats=1 -artifact_prefix=findings/${t}- corpus/$t "$seeds"
	mkdir -p corpus/$t.min
	./${t}_fuzz -merge=1 $opts corpus/$t.min corpus/$t >/dev/null 2>&1
	rm -rf corpus/$t && mv corpus/$t.min corpus/$t
	if [ "$t" = filter-sql ]; then fuzz_server_stop; fi
done
