#!/bin/sh
# test/check.sh: README command 2.  Installs what the tests need (as root, with
# apt-get), builds, installs the extension and runs every test.
#
#   test/check.sh [unit|regress|integration]     default: all suites
#
# PostgreSQL will not run as root, so as root the tree is copied to a work
# directory owned by the postgres user, built there, installed as root, and
# the tests run as postgres.  As any other user it builds and tests in place
# (the extension directory must then be writable by that user).
# NFPG_NO_APT=1 skips the package step; PG_CONFIG picks another PostgreSQL.
set -eu
TOP=$(cd "$(dirname "$0")/.." && pwd)
PG_CONFIG=${PG_CONFIG:-/usr/lib/postgresql/15/bin/pg_config}
export PG_CONFIG

. "$TOP/test/packages.sh"

if [ "$(id -u)" -ne 0 ]; then
	cd "$TOP"
	make -s with_llvm=no && make -s with_llvm=no install
	exec "$TOP/test/run-tests.sh" "$@"
fi

[ -n "${NFPG_NO_APT:-}" ] || install_missing $NFPG_RUN_PACKAGES $NFPG_TEST_PACKAGES
WORK=${NFPG_WORK:-/tmp/nfpg-check}
rm -rf "$WORK"
mkdir -p "$WORK"
tar -C "$TOP" --exclude=.git --exclude=tmp_check --exclude=results --exclude='*.o' \
	--exclude='*.so' --exclude=.nfpg -cf - . | tar -C "$WORK" -xf -
chown -R postgres: "$WORK"
cd "$WORK"
runuser -u postgres -- make -s with_llvm=no PG_CONFIG="$PG_CONFIG" >build.log 2>&1 || { cat build.log; exit 1; }
make -s with_llvm=no PG_CONFIG="$PG_CONFIG" install >>build.log 2>&1 || { cat build.log; exit 1; }
echo "check.sh: built and installed; running tests as postgres in $WORK"
exec runuser -u postgres -- env PG_CONFIG="$PG_CONFIG" PATH="$PATH" "$WORK/test/run-tests.sh" "$@"
