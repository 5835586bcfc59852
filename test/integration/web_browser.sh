#!/bin/sh
# web_browser.sh: the web console as a user meets it.  A cluster with
# password (scram) authentication on TCP, nfpgd filled by flowgen, nfpg-web
# in front, and headless Chromium (Debian's chromium + chromedriver) logging
# in and clicking through the page (web_browser.py): the overview's series
# per protocol equal nfpg.profile_series as rates; a slot clicked in the
# details chart and Top-N -s ip/bytes give nf_stat's rows; a bad filter
# shows nf_filter's error position; an address link narrows the flow list;
# graph-a-filter and Top-N-over-time draw what the functions return; a role
# under row-level security or without a column grant sees in the page what
# psql shows it.  Screenshots are kept in test/integration/artifacts/web/.
. "$(dirname "$0")/../lib.sh"
. "$NFPG_TOP/test/tools/web_setup.sh"
set -u

ART="$NFPG_TOP/test/integration/artifacts/web"
rm -rf "$ART"
mkdir -p "$ART"
web_cluster 20000 || { t_fail "cluster with flows"; t_done; exit 1; }
t_ok "nfpgd loaded 20000 flowgen flows; live profile built"
web_start || { t_fail "nfpg-web starts"; cat "$T_DIR/nfpg-web.log"; t_done; exit 1; }
t_ok "nfpg-web listens on $WEB_URL"

python3 "$NFPG_TOP/test/integration/web_browser.py" "$WEB_URL" "${WEB_FROM}000" "${WEB_TO}000" "$ART" \
	>"$T_DIR/browser.out" 2>&1
rc=$?
while IFS= read -r line; do
	case "$line" in
		"ok - "*) t_ok "${line#ok - }" ;;
		"not ok - "*) t_fail "${line#not ok - }" ;;
		*) echo "# $line" ;;
	esac
done <"$T_DIR/browser.out"
t_eq "browser script exit status" 0 "$rc"
t_eq "screenshots saved" 9 "$(ls "$ART"/*.png 2>/dev/null | wc -l)"
kill -0 "$WEB_PID" 2>/dev/null && t_ok "nfpg-web still running" || t_fail "nfpg-web died"
cp "$T_DIR/nfpg-web.log" "$ART/" 2>/dev/null
t_done
