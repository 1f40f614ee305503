//! `IngestionEngine`: one provider's engine, as a JavaScript class.

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::Promise;
use napi::threadsafe_function::ThreadsafeFunction;
use napi::Status;
use napi_derive::napi;

use super::error::JsResult;
use super::options::EngineOptions;
use super::types::{ConsistencyReport, EventStats, HealRef, LeaseTimings, ProviderStatus, TickReport};
use crate::engine::{Engine, Mutation, Sink};
use crate::error::{Error, ErrorCode};

/// `(mutationJson: string) => Promise<void>`; weak: it never keeps Node alive by itself.
type SinkFn = ThreadsafeFunction<String, Promise<()>, String, Status, false, true>;

/// Hands each mutation, as the JSON of `applyMutation`'s argument, to a JavaScript
/// async function and waits for its promise. A throw or a rejection fails the page.
struct JsSink {
    callback: SinkFn,
}

impl Sink for JsSink {
    fn apply(&self, mutation: Mutation) -> impl Future<Output = Result<(), String>> + Send {
        let json = mutation.to_backstage_json();
        async move {
            // `call_async_catch`: a synchronous throw comes back as an Err instead of
            // reaching Node's `uncaughtException`.
            let promise = self.callback.call_async_catch(json).await.map_err(|e| sink_message(&e))?;
            promise.await.map_err(|e| sink_message(&e))
        }
    }
}

fn sink_message(e: &napi::Error) -> String {
    if e.reason.is_empty() {
        format!("the catalog rejected the mutation ({})", e.status)
    } else {
        e.reason.clone()
    }
}

/// How change events are worked; unset fields take the engine's defaults.
#[napi(object)]
#[derive(Clone, Default)]
pub struct EventsOptions {
    /// Distinct resources waiting, at most (default 10000).
    pub capacity: Option<f64>,
    /// How long an event waits for others about the same resource (default 100 ms).
    pub coalesce_window_ms: Option<f64>,
    /// Resources fetched at once (default 16).
    pub workers: Option<f64>,
}

/// The incremental ingestion engine of one provider. All state lives in the state
/// database, so any number of replicas may open the same provider; bursts are serialized
/// by a lease in that database.
#[napi]
pub struct IngestionEngine {
    engine: Arc<Engine>,
    provider_name: String,
    closed: AtomicBool,
}

impl IngestionEngine {
    fn live(&self) -> Result<&Engine, Error> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::new(
                ErrorCode::Closed,
                format!("the ingestion engine of provider '{}' is closed", self.provider_name),
            ));
        }
        Ok(&self.engine)
    }
}

#[napi]
impl IngestionEngine {
    /// Validates the options, opens the state database and applies its migrations.
    /// Rejects with `code` `INVALID_CONFIG` (the message names the `app-config.yaml` key)
    /// or `DATABASE`.
    #[napi(ts_return_type = "Promise<IngestionEngine>")]
    pub async fn open(options: EngineOptions) -> JsResult<IngestionEngine> {
        JsResult(
            async {
                let config = options.into_config()?;
                let provider_name = config.provider_name.clone();
                let engine = Engine::open(config).await?;
                Ok(IngestionEngine { engine: Arc::new(engine), provider_name, closed: AtomicBool::new(false) })
            }
            .await,
        )
    }

    /// The provider name (the entities' ownership key).
    #[napi(getter)]
    pub fn provider_name(&self) -> String {
        self.provider_name.clone()
    }

    /// How the burst lease is timed: the module's scheduler task times out after
    /// `holdLimitSeconds + leaseTtlSeconds`, when a burst still running holds the lease
    /// only by its own commits.
    #[napi(getter)]
    pub fn lease_timings(&self) -> LeaseTimings {
        let c = self.engine.config();
        LeaseTimings {
            lease_ttl_seconds: c.lease_ttl.as_secs_f64(),
            heartbeat_seconds: c.lease_heartbeat().as_secs_f64(),
            hold_limit_seconds: c.lease_hold_limit().as_secs_f64(),
        }
    }

    /// Checks that `baseUrl` is a current, cursor-paginated OpenChoreo API
    /// (`INCOMPATIBLE_SERVER`, `AUTH`, `TRANSIENT`, ... otherwise).
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn probe(&self) -> JsResult<()> {
        JsResult(async { self.live()?.probe().await }.await)
    }

    /// Runs a burst when the provider's next action is due, handing every mutation to
    /// `sink` as the JSON of `EntityProviderConnection.applyMutation`'s argument;
    /// otherwise resolves at once. Pass a wrapper
    /// (`json => connection.applyMutation(JSON.parse(json))`), not a bare method.
    #[napi(
        ts_args_type = "sink: (mutationJson: string) => Promise<void>",
        ts_return_type = "Promise<TickReport>"
    )]
    pub async fn tick(&self, sink: SinkFn) -> JsResult<TickReport> {
        let sink = JsSink { callback: sink };
        JsResult(async { self.live()?.tick(&sink).await.map(TickReport::from) }.await)
    }

    /// Takes an OpenChoreo change event (the payload's JSON, `{kind, name, namespace?,
    /// action}`); never blocks. Returns `queued`, `coalesced`, `overflowed` (the queue is
    /// full: the next cycle is made due now) or `ignored: <why>`.
    #[napi(ts_return_type = "string")]
    pub fn push_event(&self, payload_json: String) -> JsResult<String> {
        use crate::engine::events::queue::Pushed;
        JsResult(self.live().map(|engine| match engine.push_event(&payload_json) {
            Pushed::Queued => "queued".to_string(),
            Pushed::Coalesced => "coalesced".to_string(),
            Pushed::Overflowed => "overflowed".to_string(),
            Pushed::Ignored(why) => format!("ignored: {why}"),
        }))
    }

    /// Starts applying change events (until `close`), each as one `applyMutation` through
    /// `sink` (as for `tick`).
    #[napi(
        ts_args_type = "sink: (mutationJson: string) => Promise<void>, options?: EventsOptions",
        ts_return_type = "Promise<void>"
    )]
    pub async fn start_events(&self, sink: SinkFn, options: Option<EventsOptions>) -> JsResult<()> {
        JsResult(self.live().map(|_| {
            let o = options.unwrap_or_default();
            let mut config = crate::engine::events::queue::EventsConfig::default();
            if let Some(v) = o.capacity.filter(|v| v.is_finite() && *v >= 1.0) {
                config.capacity = v as usize;
            }
            if let Some(v) = o.coalesce_window_ms.filter(|v| v.is_finite() && *v >= 0.0) {
                config.coalesce_window = std::time::Duration::from_millis(v as u64);
            }
            if let Some(v) = o.workers.filter(|v| v.is_finite() && *v >= 1.0) {
                config.workers = v as usize;
            }
            self.engine.start_events(Arc::new(JsSink { callback: sink }), config);
        }))
    }

    /// The change events' counters (also in `status().events`).
    #[napi]
    pub fn event_stats(&self) -> EventStats {
        self.engine.event_stats().into()
    }

    /// The provider's persisted state.
    #[napi(ts_return_type = "Promise<ProviderStatus>")]
    pub async fn status(&self) -> JsResult<ProviderStatus> {
        JsResult(async { self.live()?.status().await.map(ProviderStatus::from) }.await)
    }

    /// Takes over entity refs (`kind:namespace/name`) that the legacy provider (same
    /// provider name and location key) left in the catalog: refs of the kinds this
    /// module produces (every kind of its kind table) become owned as if seen in cycle
    /// 0, so the next completed cycle removes those OpenChoreo no longer has (under the
    /// usual guards). Other kinds and malformed refs are ignored; refs already owned are
    /// left as they are. Resolves with how many refs were new.
    #[napi(ts_return_type = "Promise<number>")]
    pub async fn adopt(&self, refs: Vec<String>) -> JsResult<i64> {
        JsResult(async { self.live()?.adopt(refs).await.map(|n| i64::try_from(n).unwrap_or(i64::MAX)) }.await)
    }

    /// Starts a catalog consistency check; resolves with its id.
    #[napi(ts_return_type = "Promise<number>")]
    pub async fn begin_consistency_check(&self) -> JsResult<i64> {
        JsResult(self.live().and_then(|e| e.begin_consistency_check()))
    }

    /// One page of the catalog's listing of this provider (refs `kind:namespace/name`);
    /// resolves with how many of them the engine owns.
    #[napi(ts_return_type = "Promise<number>")]
    pub async fn consistency_listed(&self, check: i64, refs: Vec<String>) -> JsResult<i64> {
        JsResult(async { self.live()?.consistency_listed(check, refs).await.map(|n| i64::try_from(n).unwrap_or(i64::MAX)) }.await)
    }

    /// Ends a check: counts the owned refs the listing lacked and, with `heal`, marks
    /// them to be handed over again with a content change.
    #[napi(ts_return_type = "Promise<ConsistencyReport>")]
    pub async fn finish_consistency_check(&self, check: i64, listed: i64, listed_owned: i64, heal: bool) -> JsResult<ConsistencyReport> {
        JsResult(async { self.live()?.finish_consistency_check(check, listed, listed_owned, heal).await.map(Into::into) }.await)
    }

    /// Refs to hand over again with a content change (at most `limit`).
    #[napi(ts_return_type = "Promise<HealRef[]>")]
    pub async fn heal_refs(&self, limit: i64) -> JsResult<Vec<HealRef>> {
        JsResult(async {
            let refs = self.live()?.heal_refs(limit).await?;
            Ok(refs.into_iter().map(|(entity_ref, check)| HealRef { entity_ref, check }).collect())
        }
        .await)
    }

    /// Records an entity the catalog gets at once, outside a cycle (`Engine::record_inserted`):
    /// owned and seen in the current cycle. Resolves with the ref as stored, or `null`
    /// (nothing recorded) for a malformed ref or a kind this module does not produce.
    #[napi(ts_return_type = "Promise<string | null>")]
    pub async fn record_inserted(&self, entity_ref: String) -> JsResult<Option<String>> {
        JsResult(async { self.live()?.record_inserted(&entity_ref).await }.await)
    }

    /// Forgets an entity removed from the catalog at once (`Engine::forget_removed`).
    /// Resolves with whether the provider owned it.
    #[napi(ts_return_type = "Promise<boolean>")]
    pub async fn forget_removed(&self, entity_ref: String) -> JsResult<bool> {
        JsResult(async { self.live()?.forget_removed(&entity_ref).await }.await)
    }

    /// Forgets the current cycle; the next tick starts a new one from the beginning.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn reset(&self) -> JsResult<()> {
        JsResult(async { self.live()?.reset().await }.await)
    }

    /// Makes the next action due now.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn refresh(&self) -> JsResult<()> {
        JsResult(async { self.live()?.refresh().await }.await)
    }

    /// Stops a running burst after its current page and abandons the cycle (no
    /// removals); the provider rests, then starts a fresh cycle.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn cancel(&self) -> JsResult<()> {
        JsResult(async { self.live()?.cancel().await }.await)
    }

    /// Stops background work and closes the database pool. Idempotent; every other
    /// method rejects with `CLOSED` afterwards.
    #[napi(ts_return_type = "Promise<void>")]
    pub async fn close(&self) -> JsResult<()> {
        if !self.closed.swap(true, Ordering::AcqRel) {
            self.engine.close().await;
        }
        JsResult(Ok(()))
    }
}
