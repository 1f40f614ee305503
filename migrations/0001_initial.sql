-- State of the OpenChoreo incremental ingestion engine. Portable SQL: runs unchanged on
-- SQLite and PostgreSQL. Every table is prefixed `oc_ingest_` and owned by this module.

-- One row per provider: the cycle, what it does now and next, the walk cursor, and the
-- burst lease that keeps two processes from bursting the same provider at once.
CREATE TABLE IF NOT EXISTS oc_ingest_providers (
  name TEXT PRIMARY KEY,
  cycle BIGINT NOT NULL DEFAULT 0,
  status TEXT NOT NULL,
  status_since BIGINT NOT NULL,
  next_action_at BIGINT NOT NULL,
  attempts BIGINT NOT NULL DEFAULT 0,
  last_error TEXT,
  walk_cursor TEXT,
  progress TEXT,
  rejected_removal TEXT,
  last_completed TEXT,
  lease_owner TEXT,
  lease_until BIGINT NOT NULL DEFAULT 0
);

-- One row per entity a provider owns: nothing here grows per page.
CREATE TABLE IF NOT EXISTS oc_ingest_entities (
  provider TEXT NOT NULL,
  entity_ref TEXT NOT NULL,
  first_seen_cycle BIGINT NOT NULL,
  last_seen_cycle BIGINT NOT NULL,
  PRIMARY KEY (provider, entity_ref)
);
CREATE INDEX IF NOT EXISTS oc_ingest_entities_seen ON oc_ingest_entities (provider, last_seen_cycle);

-- The namespaces of the current cycle, in walk order ("namespace k of n").
CREATE TABLE IF NOT EXISTS oc_ingest_cycle_namespaces (
  provider TEXT NOT NULL,
  seq BIGINT NOT NULL,
  name TEXT NOT NULL,
  PRIMARY KEY (provider, seq)
);

-- Cross-references staged while a namespace is walked, dropped when it is done:
-- project owners (components fall back to them) and workload facts (providesApis,
-- consumesApis targets, dependsOn, the workload's name).
CREATE TABLE IF NOT EXISTS oc_ingest_stage_projects (
  provider TEXT NOT NULL,
  namespace TEXT NOT NULL,
  project TEXT NOT NULL,
  owner TEXT,
  PRIMARY KEY (provider, namespace, project)
);
CREATE TABLE IF NOT EXISTS oc_ingest_stage_workloads (
  provider TEXT NOT NULL,
  namespace TEXT NOT NULL,
  wkey TEXT NOT NULL,
  facts TEXT NOT NULL,
  PRIMARY KEY (provider, namespace, wkey)
);

-- Items of the current cycle that could not become entities (bounded by the engine).
CREATE TABLE IF NOT EXISTS oc_ingest_item_errors (
  provider TEXT NOT NULL,
  cycle BIGINT NOT NULL,
  at BIGINT NOT NULL,
  path TEXT NOT NULL,
  item TEXT,
  message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS oc_ingest_item_errors_provider ON oc_ingest_item_errors (provider, at);
