#!/bin/sh
# test/fuzz/run_colcodec.sh [SECONDS]: build and run the libFuzzer harness of
# the packed-partition column codec (colcodec_fuzz.c) on one core under
# AddressSanitizer and UBSan, growing test/fuzz/corpus/colcodec; findings go
# to test/fuzz/findings/.  Default 300 s.
set -eu
cd "$(dirname "$0")"
SECS=${1:-300}
CC=${CC:-clang}
mkdir -p findings corpus/colcodec
$CC -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I../../extension \
	-o colcodec_fuzz colcodec_fuzz.c ../../extension/colcodec.c ../../extension/colcodec_decode.c ../../extension/colcodec_frames.c -lzstd -lz
./colcodec_fuzz -max_total_time="$SECS" -max_len=65536 -timeout=10 -rss_limit_mb=1024 \
	-print_final_stats=1 -artifact_prefix=findings/colcodec- corpus/colcodec
