-- A workload's API entities wait in staging for their component: an API takes the
-- component's owner, which is known only in the components phase.
ALTER TABLE oc_ingest_stage_workloads ADD COLUMN apis TEXT;
