-- Change events (src/events). Each entity ref an event touched keeps the newest result
-- an event fetched for it: the entity's JSON, or NULL when the resource was gone, and
-- when that GET answered. A page the walk fetched before that moment must not overwrite
-- it (the burst substitutes the event's result); kept for a while, then pruned.
CREATE TABLE IF NOT EXISTS oc_ingest_event_marks (
  provider TEXT NOT NULL,
  entity_ref TEXT NOT NULL,
  fetched_at BIGINT NOT NULL,
  entity TEXT,
  PRIMARY KEY (provider, entity_ref)
);
CREATE INDEX IF NOT EXISTS oc_ingest_event_marks_time ON oc_ingest_event_marks (provider, fetched_at);

-- One event fetch of a resource at a time, across replicas: a claim with an expiry.
CREATE TABLE IF NOT EXISTS oc_ingest_event_claims (
  provider TEXT NOT NULL,
  resource TEXT NOT NULL,
  owner TEXT NOT NULL,
  claimed_at BIGINT NOT NULL,
  claimed_until BIGINT NOT NULL,
  PRIMARY KEY (provider, resource)
);
