--------------------------------------------------------------------------------
-- Loader bookkeeping
--
-- nfpgd loads every batch of flows in one transaction together with a call
-- to loader_batch_claim(batch id).  A batch that is retried -- from the
-- loader's spool after an outage, or after the loader died between COMMIT
-- and deleting its spool file -- finds its id already claimed and is
-- skipped, so every flow is loaded exactly once.  Ids are kept for
-- batch_log_keep days (the loader calls loader_batches_expire hourly).
--------------------------------------------------------------------------------

CREATE TABLE nfpg.loader_batches (
	batch_id			text PRIMARY KEY,
	flows				bigint NOT NULL,
	loaded				timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE nfpg.loader_batches IS 'Batches of flows the loader has committed, by id, so a retried batch is never loaded twice';
COMMENT ON COLUMN nfpg.loader_batches.batch_id IS 'Loader instance name / boot time in ms - batch sequence number';
COMMENT ON COLUMN nfpg.loader_batches.flows IS 'Rows in the batch';
COMMENT ON COLUMN nfpg.loader_batches.loaded IS 'When the batch was committed';

-- VOLATILE (it writes) and not STRICT-sensitive: a NULL id is refused by
-- the primary key.
CREATE FUNCTION nfpg.loader_batch_claim(batch_id text, flows bigint)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO nfpg.loader_batches (batch_id, flows) VALUES ($1, $2)
	ON CONFLICT ON CONSTRAINT loader_batches_pkey DO NOTHING;
	RETURN FOUND;
END
$$;
COMMENT ON FUNCTION nfpg.loader_batch_claim(text, bigint) IS 'Record a batch id in the current transaction; false if it was already loaded (the loader then skips the batch)';

-- The loader may only forget ids older than a day, whatever it asks: a
-- retried batch comes back from the spool within hours, and a login that
-- could forget every id could make the next replay load batches twice.
CREATE FUNCTION nfpg.loader_batches_expire(keep interval)
RETURNS bigint
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
BEGIN ATOMIC
	WITH gone AS (DELETE FROM nfpg.loader_batches
				   WHERE loaded < now() - greatest(keep, interval '1 day') RETURNING 1)
	SELECT count(*) FROM gone;
END;
COMMENT ON FUNCTION nfpg.loader_batches_expire(interval) IS 'Forget loaded batch ids older than keep (at least one day); returns how many were removed';

-- The partition that holds every flow starting in [first_min, first_max],
-- for the loader to COPY into directly: through the parent, COPY routes
-- and copies every row once more.  Only partitions that are
-- attached and registered qualify; NULL sends the batch through nfpg.flows.
-- So does a login role without INSERT on nfpg.flows: revoking that still
-- stops the loader, although partitions grant INSERT themselves.
-- The name comes back qualified and quoted (regclass output with nfpg off
-- the search_path).
CREATE FUNCTION nfpg.loader_target(first_min timestamptz, first_max timestamptz)
RETURNS text
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	-- plpgsql, not a SQL-standard body: nfpg.flows is the user's table, made
	-- by setup() after CREATE EXTENSION, so it cannot be bound at creation.
	RETURN (SELECT p.relid::text
			  FROM nfpg.partitions p
			  JOIN pg_inherits i ON i.inhrelid = p.relid AND i.inhparent = 'nfpg.flows'::regclass
			 WHERE p.lower_bound <= first_min AND p.upper_bound > first_max
			   AND pg_catalog.has_table_privilege(session_user, 'nfpg.flows', 'INSERT'));
END
$$;
COMMENT ON FUNCTION nfpg.loader_target(timestamptz, timestamptz) IS 'The attached partition of nfpg.flows holding first_seen values first_min to first_max, or NULL (the loader then COPYs into nfpg.flows)';

REVOKE ALL ON FUNCTION nfpg.loader_batch_claim(text, bigint) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.loader_target(timestamptz, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION nfpg.loader_batches_expire(interval) FROM PUBLIC;

GRANT EXECUTE ON FUNCTION nfpg.loader_batch_claim(text, bigint) TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.loader_target(timestamptz, timestamptz) TO nfpg_loader;
GRANT EXECUTE ON FUNCTION nfpg.loader_batches_expire(interval) TO nfpg_loader;
