#!/bin/sh
# test/integration/filter_differential_packed.sh: filter_differential.sh (the
# nfdump filter corpus against nfdump 1.7.1 on flowgen traffic) with the flows
# in packed partitions (66_pack.sql), whose block summaries let selective
# filters skip blocks: the counts must still be nfdump's.  50000 flows by
# default (FILTER_DIFF_FLOWS).
NFPG_PACKED=1 FILTER_DIFF_FLOWS=${FILTER_DIFF_FLOWS:-50000} exec sh "$(dirname "$0")/filter_differential.sh"
