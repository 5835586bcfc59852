#!/bin/sh
# test/fuzz/run.sh: build a libFuzzer target with ASan+UBSan and run it.
#
#   test/fuzz/run.sh [TARGET [SECONDS]]     default: filter 600
#
# TARGET_fuzz.c is linked with the PostgreSQL-free sources of extension/ and
# loader/ (the same set the unit tests use).  The seed corpus is
# test/fuzz/TARGET_corpus/, the dictionary test/fuzz/TARGET.dict if present;
# new inputs go to $NFPG_FUZZ_DIR/TARGET (default /tmp/nfpg-fuzz).  A crash
# leaves crash-* files in the current directory and a non-zero exit status.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$HERE/../.." && pwd)
TARGET=${1:-filter}
SECONDS_=${2:-600}
OUT=${NFPG_FUZZ_DIR:-/tmp/nfpg-fuzz}/$TARGET
mkdir -p "$OUT"
SRCS=$(grep -L '"postgres.h"' /dev/null "$TOP"/extension/*.c)
for f in "$TOP"/loader/*.c; do
	[ -e "$f" ] && [ "$(basename "$f")" != main.c ] && SRCS="$SRCS $f"
done
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	-I"$TOP/extension" -I"$TOP/loader" "$HERE/${TARGET}_fuzz.c" $SRCS \
	-o "$OUT/${TARGET}_fuzz"
DICT=""
[ -f "$HERE/$TARGET.dict" ] && DICT="-dict=$HERE/$TARGET.dict"
exec "$OUT/${TARGET}_fuzz" -max_total_time="$SECONDS_" -timeout=5 -rss_limit_mb=1024 $DICT \
	"$OUT" "$HERE/${TARGET}_corpus"
