-- The burst lease is renewed by a heartbeat while a burst runs and lives for seconds, not
-- minutes; the status tells a running burst from one whose holder stopped renewing. For
-- that it needs each lease's time to live (its last renewal is `lease_until` minus it).
ALTER TABLE oc_ingest_providers ADD COLUMN lease_ttl_ms BIGINT NOT NULL DEFAULT 0;
-- A fingerprint (SHA-256) of the connection settings the engine last started with (base
-- URL, credentials: a secret enters only as its own hash). A start with other settings
-- clears the back-off and tries at once; a start with the same ones keeps it.
ALTER TABLE oc_ingest_providers ADD COLUMN settings_fingerprint TEXT;
