-- The foundation: the extension, the flows table, partitions, exporters, roles.
SET timezone = 'UTC';
SELECT extname, extversion, extnamespace::regnamespace FROM pg_extension WHERE extname = 'nfpg';
