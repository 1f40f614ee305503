-- The catalog consistency check (engine::consistency). `listed_check`: the latest check
-- whose listing of the catalog returned the ref. `heal`: non-zero while the ref waits to
-- be handed over again with a content change (the catalog skips an unchanged entity
-- before stitching it, so only a change repairs its search rows); the value is the
-- check that asked for it.
ALTER TABLE oc_ingest_entities ADD COLUMN listed_check BIGINT NOT NULL DEFAULT 0;
ALTER TABLE oc_ingest_entities ADD COLUMN heal BIGINT NOT NULL DEFAULT 0;
CREATE INDEX IF NOT EXISTS oc_ingest_entities_heal ON oc_ingest_entities (provider, entity_ref) WHERE heal <> 0;
-- The last check's report (JSON), shown in the status.
ALTER TABLE oc_ingest_providers ADD COLUMN consistency TEXT;
