#!/bin/sh
# test/integration/stat_nfdump_diff_packed.sh: every check of
# stat_nfdump_diff.sh (nf_stat, nf_aggregate, nf_summary, nf_format against
# nfdump 1.7.1) with the flows in packed partitions (66_pack.sql) instead of
# heap ones.  50000 flows by default (NFPG_DIFF_FLOWS), to keep the suite short.
NFPG_PACKED=1 NFPG_DIFF_FLOWS=${NFPG_DIFF_FLOWS:-50000} exec sh "$(dirname "$0")/stat_nfdump_diff.sh"
