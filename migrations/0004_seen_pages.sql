-- The refs a cycle sees are recorded one row per committed page group (a JSON array of
-- refs), not as one upsert per entity: at 100,000 components those upserts were 200,000
-- index updates a cycle, about 40 % of PostgreSQL's work. The owned set
-- (oc_ingest_entities) now changes once a cycle, when its walk is complete: refs seen for
-- the first time join it, and those it did not see are listed in oc_ingest_stale for
-- removal (under the guards).
CREATE TABLE IF NOT EXISTS oc_ingest_seen_pages (
  provider TEXT NOT NULL,
  cycle BIGINT NOT NULL,
  refs TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS oc_ingest_seen_pages_cycle ON oc_ingest_seen_pages (provider, cycle);

CREATE TABLE IF NOT EXISTS oc_ingest_stale (
  provider TEXT NOT NULL,
  entity_ref TEXT NOT NULL,
  PRIMARY KEY (provider, entity_ref)
);

-- A cycle in progress keeps what its pages already recorded: those refs move over.
INSERT INTO oc_ingest_seen_pages (provider, cycle, refs)
SELECT e.provider, e.last_seen_cycle, '["' || replace(replace(e.entity_ref, '\', '\\'), '"', '\"') || '"]'
FROM oc_ingest_entities e JOIN oc_ingest_providers p ON p.name = e.provider
WHERE p.walk_cursor IS NOT NULL AND e.last_seen_cycle = p.cycle;

DROP INDEX IF EXISTS oc_ingest_entities_seen;
ALTER TABLE oc_ingest_entities DROP COLUMN last_seen_cycle;
