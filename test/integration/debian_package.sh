#!/bin/sh
# debian_package.sh: the Debian packages, built from this tree as an admin
# would build them (dpkg-buildpackage -us -uc -b, as this unprivileged user:
# debian/control says Rules-Requires-Root: no), then checked the way they
# would be installed.  Installing them into this system is not possible here
# (it would replace the PostgreSQL files the other tests use), so:
#   - lintian must report no error and no warning;
#   - both .debs are unpacked with dpkg -x into a directory and the layout is
#     checked: every extension script the tree has (install and upgrade
#     scripts) and the same bytes as the tested install, the man page where
#     man finds it, the unit, the configuration file as a conffile;
#   - the man page renders (man -l) without a groff warning and describes
#     every option of `nfpgd --help` and every key of `nfpgd --check`;
#   - systemd-analyze verify passes on the unpacked unit (a root holding the
#     package, the commands the unit runs and systemd's own units), with
#     Documentation=man:nfpgd(8) resolved to the packaged page; the same for
#     the unit and page `make install-loader` installs under /usr/local;
#   - the package's real postinst runs under fakeroot with DPKG_ROOT set to
#     a scratch root: it must create the nfpgd system user and group, the
#     spool directory owned by them (mode 0700), keep an nfpgd user an admin
#     made before, and not enable the unit;
#   - the packaged nfpgd, with the packaged configuration file, loads flowgen
#     flows into a cluster where TCP needs scram-sha-256, as docs/install.md
#     sets it up for a remote database.
# A real install adds only what dpkg itself does (unpack to /, register the
# conffile) and systemd's daemon-reload.
. "$(dirname "$0")/../lib.sh"

T_DIR=$(mktemp -d /tmp/nfpg-deb.XXXXXX)
ARCH=$(dpkg --print-architecture)
EXTVERSION=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$NFPG_TOP/extension/nfpg.control")
DEBVERSION=$(dpkg-parsechangelog -l "$NFPG_TOP/debian/changelog" -S Version)
t_eq "debian/changelog's version is the extension's default_version" "$EXTVERSION" "$DEBVERSION"

# --- build -------------------------------------------------------------------
# A copy of the tree; the build's own `debian/rules clean` removes the
# objects the test run built in it.
BUILD=$T_DIR/build
SRC=$BUILD/nfpg-$DEBVERSION
mkdir -p "$SRC"
tar -C "$NFPG_TOP" --exclude=./.git --exclude=./.nfpg --exclude=./tmp_check --exclude=./results \
	--exclude='*.log' -cf - . | tar -C "$SRC" -xf -
start=$(date +%s)
(cd "$SRC" && env -u PG_CONFIG DEB_BUILD_OPTIONS=parallel=2 dpkg-buildpackage -us -uc -b) \
	>"$T_DIR/build.log" 2>&1
rc=$?
echo "# dpkg-buildpackage took $(($(date +%s) - start)) s"
t_eq "dpkg-buildpackage -us -uc -b" 0 "$rc"
[ "$rc" -eq 0 ] || tail -30 "$T_DIR/build.log"
EXT_DEB=$BUILD/postgresql-15-nfpg_${DEBVERSION}_$ARCH.deb
NFPGD_DEB=$BUILD/nfpgd_${DEBVERSION}_$ARCH.deb
CHANGES=$BUILD/nfpg_${DEBVERSION}_$ARCH.changes
for f in "$EXT_DEB" "$NFPGD_DEB" "$CHANGES"; do
	[ -f "$f" ] && t_ok "built $(basename "$f")" || t_fail "no $(basename "$f")"
done
[ -f "$CHANGES" ] || { t_done; exit 1; }

lintian --fail-on error,warning "$CHANGES" >"$T_DIR/lintian.log" 2>&1
t_eq "lintian: no error, no warning" 0 $?
sed 's/^/# lintian: /' "$T_DIR/lintian.log"

# --- the unpacked layout --------------------------------------------------------
ROOT=$T_DIR/root
dpkg -x "$EXT_DEB" "$ROOT" && dpkg -x "$NFPGD_DEB" "$ROOT" || t_fail "dpkg -x"
EXTDIR=$ROOT/usr/share/postgresql/15/extension
INSTALLED=$("${PG_CONFIG:-pg_config}" --sharedir)/extension
[ -f "$ROOT/usr/lib/postgresql/15/lib/nfpg.so" ] && t_ok "nfpg.so in PostgreSQL 15's lib directory" ||
	t_fail "no usr/lib/postgresql/15/lib/nfpg.so"
cmp -s "$EXTDIR/nfpg.control" "$NFPG_TOP/extension/nfpg.control" && t_ok "nfpg.control is the tree's" ||
	t_fail "nfpg.control missing or not the tree's"
# What `make install` installs (the Makefile's DATA and DATA_built).
want=$(make -s --no-print-directory -C "$NFPG_TOP" --eval 'nfpg-scripts: ; @echo $(DATA) $(DATA_built)' \
	nfpg-scripts | tr ' ' '\n' | sed -n 's|^extension/\(nfpg--.*\.sql\)$|\1|p' | sort)
have=$(cd "$EXTDIR" && ls nfpg--*.sql | sort)
t_eq "the package has every extension script make install installs" "$(echo $want)" "$(echo $have)"
# Every install script it ships can be updated to the default version.
for s in $have; do
	v=${s#nfpg--}
	v=${v%.sql}
	case $v in *--*) continue ;; esac
	steps=0
	while [ "$v" != "$EXTVERSION" ] && [ $steps -lt 20 ]; do
		next=$(cd "$EXTDIR" && ls nfpg--"$v"--*.sql 2>/dev/null | head -1)
		[ -n "$next" ] || break
		v=${next#nfpg--"$v"--}
		v=${v%.sql}
		steps=$((steps + 1))
	done
	t_eq "$s updates to $EXTVERSION with the packaged scripts" "$EXTVERSION" "$v"
done
for s in $want; do
	cmp -s "$EXTDIR/$s" "$INSTALLED/$s" && t_ok "$s: the bytes the test suite installed" ||
		t_fail "$s differs from $INSTALLED/$s"
done

BIN=$ROOT/usr/bin/nfpgd
UNIT=$ROOT/lib/systemd/system/nfpgd.service
CONF=$ROOT/etc/nfpg/nfpgd.conf
MAN=$ROOT/usr/share/man/man8/nfpgd.8.gz
for f in "$BIN" "$UNIT" "$CONF" "$MAN" "$ROOT/usr/lib/sysusers.d/nfpgd.conf" \
	"$ROOT/usr/lib/tmpfiles.d/nfpgd.conf"; do
	[ -f "$f" ] && t_ok "nfpgd has ${f#"$ROOT"}" || t_fail "nfpgd lacks ${f#"$ROOT"}"
done
t_eq "nfpgd -V is the package's version" "nfpgd $DEBVERSION" "$("$BIN" -V)"
t_eq "the man page is the package's version" "\"nfpg $DEBVERSION\"" \
	"$(zcat "$MAN" | awk '$1 == ".TH" {print $5, $6}')"
t_eq "/etc/nfpg/nfpgd.conf is a conffile" /etc/nfpg/nfpgd.conf \
	"$(dpkg-deb --ctrl-tarfile "$NFPGD_DEB" | tar -xOf - ./conffiles)"
exec_start=$(sed -n 's/^ExecStart=//p' "$UNIT")
t_eq "the unit runs the packaged program on the packaged config" \
	"/usr/bin/nfpgd -c /etc/nfpg/nfpgd.conf" "$exec_start"

# The shipped configuration file loads, and its spool directory is the one
# the package creates and the unit may write.
"$BIN" -c "$CONF" --check >"$T_DIR/check.out" 2>&1
t_eq "nfpgd --check accepts the packaged nfpgd.conf" 0 $?
key() { sed -n "s/^$1 = //p" "$T_DIR/check.out"; }
t_eq "default listen address" "127.0.0.1:9995" "$(key listen)"
spool=$(key spool_dir)
t_eq "tmpfiles creates the spool directory" "d $spool 0700 nfpgd nfpgd -" \
	"$(grep '^d ' "$ROOT/usr/lib/tmpfiles.d/nfpgd.conf")"
t_eq "the unit may write the spool directory" "-$spool" "$(sed -n 's/^ReadWritePaths=//p' "$UNIT")"
t_eq "the unit runs as the sysusers user" "$(sed -n 's/^User=//p' "$UNIT")" \
	"$(awk '$1 == "u" {print $2}' "$ROOT/usr/lib/sysusers.d/nfpgd.conf")"

# --- the man page -------------------------------------------------------------
MANWIDTH=80 man -l "$MAN" >"$T_DIR/man.txt" 2>"$T_DIR/man.err"
t_eq "man -l renders the packaged page" 0 $?
grep -q '^SYNOPSIS' "$T_DIR/man.txt" && grep -Eq 'nfpgd +- +receive' "$T_DIR/man.txt" &&
	t_ok "rendered page has NAME and SYNOPSIS" || t_fail "rendered page lacks NAME or SYNOPSIS"
t_eq "groff -man -ww: no warning" "" "$(zcat "$MAN" | groff -man -ww -z 2>&1)"
t_eq "man finds nfpgd(8) in the package's man directory" "$MAN" \
	"$(MANPATH=$ROOT/usr/share/man man -w 8 nfpgd 2>&1)"
# Every option and every key, from the source of the page.
zcat "$MAN" | sed 's/\\-/-/g' >"$T_DIR/nfpgd.8"
t_eq "the page describes exactly the options of nfpgd --help" \
	"$("$BIN" --help | grep -o -- '--[a-z][a-z-]*' | sort -u | tr '\n' ' ')" \
	"$(grep -o -- '--[a-z][a-z-]*' "$T_DIR/nfpgd.8" | sort -u | tr '\n' ' ')"
t_eq "the page describes exactly the keys of nfpgd --check" \
	"$(sed 's/ = .*//' "$T_DIR/check.out" | sort | tr '\n' ' ')" \
	"$(awk '/^\.SH/ {in_cfg = ($2 == "CONFIGURATION")} in_cfg && prev == ".TP" && $1 == ".I" {print $2} {prev = $0}' \
		"$T_DIR/nfpgd.8" | sort | tr '\n' ' ')"

# --- systemd-analyze verify ---------------------------------------------------
# verify_unit ROOT MANDIR: systemd-analyze verify of nfpgd.service in ROOT,
# which gets systemd's units (for dependencies such as sysinit.target) and
# every command the unit runs; MANDIR must hold nfpgd(8) for the unit's
# Documentation=.  Any message is a failure: systemd 252 exits 0 after
# "Unknown key ..., ignoring".
verify_unit() {
	mkdir -p "$1/usr/lib/systemd"
	cp -a /lib/systemd/system "$1/usr/lib/systemd/"
	_unit=$(find "$1" -path '*/systemd/system/nfpgd.service' | head -1)
	for _cmd in $(sed -n 's/^Exec[A-Za-z]*=[-+@!:]*\([^ ]*\).*/\1/p' "$_unit"); do
		[ -e "$1$_cmd" ] && continue
		mkdir -p "$1$(dirname "$_cmd")" && cp "$_cmd" "$1$_cmd"
	done
	MANPATH=$2 systemd-analyze verify --root="$1" nfpgd.service 2>&1
	echo "rc $?"
}
VROOT=$T_DIR/vroot
dpkg -x "$NFPGD_DEB" "$VROOT"
t_eq "systemd-analyze verify: the package's nfpgd.service" "rc 0" \
	"$(verify_unit "$VROOT" "$VROOT/usr/share/man")"
grep -qx 'Documentation=man:nfpgd(8)' "$UNIT" && t_ok "unit documents man:nfpgd(8)" ||
	t_fail "unit lacks Documentation=man:nfpgd(8)"

# The same for `make install-loader` (PREFIX /usr/local, in a DESTDIR).
MROOT=$T_DIR/mroot
make -s -C "$NFPG_TOP/loader" install DESTDIR="$MROOT" >/dev/null ||
	t_fail "make -C loader install DESTDIR=..."
t_eq "make install-loader: man finds nfpgd(8) under /usr/local" \
	"$MROOT/usr/local/share/man/man8/nfpgd.8" "$(MANPATH=$MROOT/usr/local/share/man man -w 8 nfpgd 2>&1)"
t_eq "make install-loader: the unit runs /usr/local/bin/nfpgd" "/usr/local/bin/nfpgd -c /etc/nfpg/nfpgd.conf" \
	"$(sed -n 's/^ExecStart=//p' "$MROOT/usr/local/lib/systemd/system/nfpgd.service")"
t_eq "systemd-analyze verify: make install-loader's nfpgd.service" "rc 0" \
	"$(verify_unit "$MROOT" "$MROOT/usr/local/share/man")"

# --- the maintainer scripts ------------------------------------------------------
# postinst configure, as dpkg runs it, into a scratch root (fakeroot lets
# systemd-tmpfiles chown the spool directory there).
CTL=$T_DIR/control
dpkg-deb -e "$NFPGD_DEB" "$CTL"
postinst() {	# postinst ROOT ARGS...: the package's postinst against ROOT
	_r=$1
	shift
	fakeroot sh -c 'DPKG_ROOT=$1 DPKG_MAINTSCRIPT_PACKAGE=nfpgd DPKG_MAINTSCRIPT_NAME=postinst \
		sh "$2" configure "$3" && stat -c "%u:%g %a" "$1/var/spool/nfpgd"' sh \
		"$_r" "$CTL/postinst" "${1:-}"
}
fresh_root() {	# fresh_root DIR [PASSWD-LINE GROUP-LINE]: the package on a bare system
	mkdir -p "$1/etc"
	dpkg -x "$NFPGD_DEB" "$1"
	printf 'root:x:0:0:root:/root:/bin/bash\n%s' "${2:+$2
}" >"$1/etc/passwd"
	printf 'root:x:0:\n%s' "${3:+$3
}" >"$1/etc/group"
}
P=$T_DIR/proot
fresh_root "$P"
owner=$(postinst "$P" "" 2>"$T_DIR/postinst.err")
t_eq "postinst configure (new install) succeeds" 0 $?
sed 's/^/# postinst: /' "$T_DIR/postinst.err"
user=$(grep '^nfpgd:' "$P/etc/passwd")
uid=$(echo "$user" | cut -d: -f3)
gid=$(grep '^nfpgd:' "$P/etc/group" | cut -d: -f3)
[ -n "$uid" ] && [ "$uid" -gt 0 ] && [ "$uid" -lt 1000 ] && t_ok "nfpgd is a system user (uid $uid)" ||
	t_fail "no nfpgd system user: '$user'"
t_eq "nfpgd's group and login shell" "$gid:/usr/sbin/nologin" \
	"$(echo "$user" | cut -d: -f4,7)"
t_eq "spool directory owned by nfpgd, mode 0700" "$uid:$gid 700" "$owner"
[ -e "$P/etc/systemd/system/multi-user.target.wants/nfpgd.service" ] &&
	t_fail "installation enabled nfpgd.service" || t_ok "installation does not enable nfpgd.service"
owner=$(postinst "$P" "$DEBVERSION" 2>/dev/null)
t_eq "postinst configure again (upgrade): same user, once" "$user|1|$uid:$gid 700" \
	"$(grep '^nfpgd:' "$P/etc/passwd")|$(grep -c '^nfpgd:' "$P/etc/passwd")|$owner"
# An nfpgd user made before the package (docs/install.md's source route).
P2=$T_DIR/proot2
fresh_root "$P2" 'nfpgd:x:990:990::/var/lib/nfpgd:/usr/sbin/nologin' 'nfpgd:x:990:'
owner=$(postinst "$P2" "" 2>/dev/null)
t_eq "postinst keeps an existing nfpgd user and gives it the spool" \
	"nfpgd:x:990:990::/var/lib/nfpgd:/usr/sbin/nologin|990:990 700" \
	"$(grep '^nfpgd:' "$P2/etc/passwd")|$owner"

# --- the packaged collector at work ----------------------------------------------
# scram-sha-256 on TCP, the password in a passfile, the packaged nfpgd.conf.
pg_start || { t_fail "cluster start"; t_done; exit 1; }
cat >"$T_DIR/data/pg_hba.conf" <<HBA
local all all trust
host all all 127.0.0.1/32 scram-sha-256
HBA
"$PGBIN/pg_ctl" -D "$T_DIR/data" reload >/dev/null
q "CREATE ROLE nfpgd LOGIN PASSWORD 'loader secret' IN ROLE nfpg_loader" >/dev/null
printf '127.0.0.1:%s:nfpg:nfpgd:loader secret\n' "$PGPORT" >"$T_DIR/pgpass"
chmod 600 "$T_DIR/pgpass"
NFPGD=$BIN
loader_start "$T_DIR/nfpgd.log" -c "$CONF" -o stats_interval=0 \
	-d "host=127.0.0.1 port=$PGPORT dbname=nfpg user=nfpgd passfile=$T_DIR/pgpass" ||
	t_fail "the packaged nfpgd did not start"
$FLOWGEN --format v9 --count 3000 --seed 13 --dest "127.0.0.1:$LOADER_PORT" \
	--csv "$T_DIR/truth.csv" -q
expected=$(($(wc -l <"$T_DIR/truth.csv") - 1))
t_eq "the packaged nfpgd loaded every flow" "$expected" "$(wait_count "$expected")"
t_eq "over TCP, where pg_hba asks for scram-sha-256" "127.0.0.1" \
	"$(q "SELECT DISTINCT client_addr FROM pg_stat_activity WHERE usename = 'nfpgd'")"
kill -TERM "$LOADER_PID"
wait "$LOADER_PID"
t_eq "nfpgd stops with status 0" 0 $?
LOADER_PID=

t_done
