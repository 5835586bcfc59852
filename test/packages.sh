# test/packages.sh: the Debian packages nfpg needs (sourced by demo.sh and check.sh).

# What building and running nfpg needs.
NFPG_RUN_PACKAGES="postgresql-15 postgresql-server-dev-15 postgresql-15-cron libpq-dev libbz2-dev
	liblzo2-dev liblz4-dev libzstd-dev zlib1g-dev libssl-dev build-essential python3 libmicrohttpd-dev pkg-config
	libjs-chart.js"
# What the tests add: the reference nfdump, real exporters, pcap tools, fuzzers,
# zstd (ZSTD nfcapd files for the import test), headless Chromium for the web
# console, and what building and checking the Debian packages needs
# (debian_package.sh).
NFPG_TEST_PACKAGES="nfdump nfdump-sflow softflowd pmacct fprobe python3-scapy tshark zstd
	chromium chromium-driver curl debhelper dpkg-dev fakeroot lintian man-db groff-base systemd"

# install_missing PACKAGE...: apt-get install those not installed yet.
install_missing() {
	missing=""
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "nfpg: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	apt-get install -y -q --no-install-recommends $missing >/dev/null
}
