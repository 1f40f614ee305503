-- PostgreSQL only (SQLite compares text byte by byte already): the key columns compare
-- byte by byte too. They hold names and refs that are only ever matched exactly or
-- sorted for paging through removals, and the database's default collation would sort
-- them by locale rules, for a cost in every index insert and look-up (with C.UTF-8,
-- server CPU 4.0-4.3 -> 3.9 s a 100k cycle; more under locales like en_US).
ALTER TABLE oc_ingest_entities ALTER COLUMN provider TYPE TEXT COLLATE "C", ALTER COLUMN entity_ref TYPE TEXT COLLATE "C";
ALTER TABLE oc_ingest_stage_workloads ALTER COLUMN provider TYPE TEXT COLLATE "C", ALTER COLUMN namespace TYPE TEXT COLLATE "C", ALTER COLUMN wkey TYPE TEXT COLLATE "C";
ALTER TABLE oc_ingest_stage_projects ALTER COLUMN provider TYPE TEXT COLLATE "C", ALTER COLUMN namespace TYPE TEXT COLLATE "C", ALTER COLUMN project TYPE TEXT COLLATE "C";
