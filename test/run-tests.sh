#!/bin/sh
# test/run-tests.sh: build and run every nfpg test as an unprivileged user.
#
#   unit         test/unit (PostgreSQL-free cores: decoders, filter parser, Crypto-PAn)
#   regress      pg_regress on sql/ against a temporary instance
#   integration  test/integration/*.sh, each with its own cluster and loader
#
# The extension must be installed (make install) before; test/check.sh, the
# README's command, does that as root and then calls this script.  Ends with
# one summary line; exits non-zero when anything failed.
set -u
cd "$(dirname "$0")/.." || exit 2
TOP=$(pwd)
PASS=0
FAIL=0
FAILED=""

record() {	# record NAME STATUS
	if [ "$2" -eq 0 ]; then PASS=$((PASS + 1)); echo "PASS $1"
	else FAIL=$((FAIL + 1)); FAILED="$FAILED $1"; echo "FAIL $1"; fi
}

suite=${1:-all}

if [ "$suite" = all ] || [ "$suite" = unit ]; then
	echo "== unit tests"
	for t in $(make -s -C test/unit list); do
		make -s -C test/unit "$t" >/dev/null 2>test/unit/"$t".build.log || { record "unit/$t" 1; cat test/unit/"$t".build.log; continue; }
		./test/unit/"$t" >test/unit/"$t".log 2>&1
		rc=$?; record "unit/$t" $rc
		[ $rc -eq 0 ] || tail -20 test/unit/"$t".log
	done
fi

if [ "$suite" = all ] || [ "$suite" = regress ]; then
	echo "== pg_regress"
	rm -rf tmp_check results
	make -s with_llvm=no installcheck REGRESS_OPTS="--load-extension=nfpg --temp-instance=$TOP/tmp_check --temp-config=$TOP/test/regress.conf" >regress.log 2>&1
	# PG15's pg_regress prints "test NAME ... ok" per test (later versions "ok N - NAME").
	for f in sql/*.sql; do
		name=$(basename "$f" .sql)
		if grep -Eq "^(test +$name +\.\.\. ok|ok +[0-9]+ +[-+] +$name )" regress.log; then
			record "regress/$name" 0
		else
			record "regress/$name" 1
		fi
	done
	grep -q 'FATAL\|could not' regress.log && tail -5 regress.log
	[ -f regression.diffs ] && head -200 regression.diffs
fi

if [ "$suite" = all ] || [ "$suite" = integration ]; then
	echo "== integration tests"
	make -s -C loader >/dev/null || record loader/build 1
	make -s -C cli >/dev/null || record cli/build 1
	for t in test/integration/*.sh; do
		[ -e "$t" ] || continue
		name=$(basename "$t" .sh)
		sh "$t" >"test/integration/$name.log" 2>&1
		rc=$?; record "integration/$name" $rc
		[ $rc -eq 0 ] || tail -30 "test/integration/$name.log"
	done
fi

echo "nfpg test summary: $((PASS + FAIL)) tests, $PASS passed, $FAIL failed${FAILED:+ (failed:$FAILED)}"
[ "$FAIL" -eq 0 ]
