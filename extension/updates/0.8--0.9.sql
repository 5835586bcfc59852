--------------------------------------------------------------------------------
-- 0.8 -> 0.9: addresses of packed hours grouped by family; level -1 by default
--
-- The column codec (colcodec.h) has a third layout, in which fixed-width
-- records are grouped by their first byte (an address's family and prefix
-- length) and each group is byte-transposed on its own, so an IPv4 address
-- among IPv6 ones keeps 4 varying bytes rather than 16: a packed hour about
-- 5 % smaller on flowgen traffic, its addresses decoded faster (docs/
-- packing.md).  Hours packed before keep their layout and are read as
-- before until packed again; a library before 0.9 refuses an hour packed by
-- 0.9 with an error naming the partition ("unknown layout 2"), so a
-- downgrade needs the hours packed since the update unpacked first.
--
-- A new install packs at zstd level -1 when no level is given: with the
-- grouped addresses it keeps 31 bytes a flow (below nfdump's 40 in LZ4
-- files) and its statistics take under half of nfdump's CPU, where level 3
-- keeps 26 and two of them take a little more.  This database keeps the
-- level it has (the row of nfpg.settings is not touched): 3, unless it was
-- changed; docs/packing.md shows the UPDATE that switches.
--------------------------------------------------------------------------------

ALTER TABLE nfpg.settings ALTER COLUMN pack_zstd_level SET DEFAULT -1;
COMMENT ON COLUMN nfpg.settings.pack_zstd_level IS 'zstd level of pack_partition() when none is given, as the scheduled pack job calls it: -1 to -7 (zstd''s fast levels: literals not entropy-coded, read faster), or 1 to 19 (a packed hour about a sixth smaller at 3); -1 on a new install, 3 on one updated from 0.8';
