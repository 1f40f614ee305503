-- The store that holds the current namespace's staged workloads in memory only (they are
-- written to oc_ingest_stage_workloads only when they outgrow its copy). NULL: the staged
-- rows are all in the database. A burst that finds another holder, or a copy that no
-- longer matches, walks the namespace's workloads again.
ALTER TABLE oc_ingest_providers ADD COLUMN staging_holder TEXT;
