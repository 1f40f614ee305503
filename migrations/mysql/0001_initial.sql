-- MySQL and MariaDB: the schema as migrations 1 to 8 leave it on SQLite and PostgreSQL
-- (see ../0001_initial.sql and the others for what each table holds), created at once:
-- MySQL support began at version 8, so versions 2 to 8 record themselves without
-- running (src/store/migrate.rs).
--
-- InnoDB, for transactions and row locks. Key columns are VARCHAR (MySQL indexes no TEXT
-- without a prefix length, and a prefix would make keys unique by their prefix only) in
-- utf8mb4_bin: compared code point by code point, which is UTF-8's byte order, as SQLite
-- and PostgreSQL's "C" collation compare them, and case-sensitively. Their widths keep
-- each key within InnoDB's 3,072 bytes (4 bytes a character): provider 255 + ref 512.
-- Texts (JSON, staged workloads, errors) are LONGTEXT. Indexes are declared inside
-- CREATE TABLE: MySQL has no CREATE INDEX IF NOT EXISTS, and every DDL statement commits
-- at once, so a migration interrupted halfway must be able to run again.

CREATE TABLE IF NOT EXISTS oc_ingest_providers (
  name VARCHAR(255) NOT NULL PRIMARY KEY,
  cycle BIGINT NOT NULL DEFAULT 0,
  status VARCHAR(64) NOT NULL,
  status_since BIGINT NOT NULL,
  next_action_at BIGINT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  last_error LONGTEXT,
  walk_cursor LONGTEXT,
  progress LONGTEXT,
  rejected_removal LONGTEXT,
  last_completed LONGTEXT,
  lease_owner VARCHAR(255),
  lease_until BIGINT NOT NULL DEFAULT 0,
  staging_holder VARCHAR(255),
  lease_ttl_ms BIGINT NOT NULL DEFAULT 0,
  settings_fingerprint VARCHAR(255),
  consistency LONGTEXT
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

-- No partial indexes in MySQL: (provider, heal) serves `heal <> 0` as two short ranges.
CREATE TABLE IF NOT EXISTS oc_ingest_entities (
  provider VARCHAR(255) NOT NULL,
  entity_ref VARCHAR(512) NOT NULL,
  first_seen_cycle BIGINT NOT NULL,
  listed_check BIGINT NOT NULL DEFAULT 0,
  heal BIGINT NOT NULL DEFAULT 0,
  PRIMARY KEY (provider, entity_ref),
  KEY oc_ingest_entities_heal (provider, heal)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS oc_ingest_cycle_namespaces (
  provider VARCHAR(255) NOT NULL,
  seq BIGINT NOT NULL,
  name VARCHAR(255) NOT NULL,
  PRIMARY KEY (provider, seq)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS oc_ingest_stage_projects (
  provider VARCHAR(255) NOT NULL,
  namespace VARCHAR(255) NOT NULL,
  project VARCHAR(255) NOT NULL,
  owner LONGTEXT,
  PRIMARY KEY (provider, namespace, project)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS oc_ingest_stage_workloads (
  provider VARCHAR(255) NOT NULL,
  namespace VARCHAR(255) NOT NULL,
  wkey VARCHAR(255) NOT NULL,
  facts LONGTEXT NOT NULL,
  apis LONGTEXT,
  PRIMARY KEY (provider, namespace, wkey)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS oc_ingest_item_errors (
  provider VARCHAR(255) NOT NULL,
  cycle BIGINT NOT NULL,
  at BIGINT NOT NULL,
  path LONGTEXT NOT NULL,
  item LONGTEXT,
  message LONGTEXT NOT NULL,
  KEY oc_ingest_item_errors_provider (provider, at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS oc_ingest_seen_pages (
  provider VARCHAR(255) NOT NULL,
  cycle BIGINT NOT NULL,
  refs LONGTEXT NOT NULL,
  KEY oc_ingest_seen_pages_cycle (provider, cycle)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS oc_ingest_stale (
  provider VARCHAR(255) NOT NULL,
  entity_ref VARCHAR(512) NOT NULL,
  PRIMARY KEY (provider, entity_ref)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS oc_ingest_event_marks (
  provider VARCHAR(255) NOT NULL,
  entity_ref VARCHAR(512) NOT NULL,
  fetched_at BIGINT NOT NULL,
  entity LONGTEXT,
  PRIMARY KEY (provider, entity_ref),
  KEY oc_ingest_event_marks_time (provider, fetched_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE IF NOT EXISTS oc_ingest_event_claims (
  provider VARCHAR(255) NOT NULL,
  resource VARCHAR(512) NOT NULL,
  owner VARCHAR(255) NOT NULL,
  claimed_at BIGINT NOT NULL,
  claimed_until BIGINT NOT NULL,
  PRIMARY KEY (provider, resource)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
