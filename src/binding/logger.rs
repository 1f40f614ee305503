//! `tracing` -> a JavaScript logger callback.
//!
//! `setLogger` installs, once per process, a global `tracing` subscriber whose only layer
//! hands each event to a weak threadsafe function with a bounded queue, called in
//! non-blocking mode: a slow or busy JavaScript thread costs dropped log lines (counted),
//! never a blocked engine. Calling `setLogger` again replaces the callback and level.
//!
//! Events of this crate are forwarded from the chosen level up; events of dependencies
//! (sqlx, reqwest, hyper, ...) only at `warn` and `error`.

// A unit-test build registers no `#[napi]` exports, so everything only they reach looks unused.
#![cfg_attr(test, allow(dead_code))]

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::{Arc, RwLock};

use napi::bindgen_prelude::FnArgs;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use napi_derive::napi;
use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

/// Spread as three arguments: `(level, message, fieldsJson)`.
type LogArgs = FnArgs<(String, String, String)>;
/// Weak (never keeps Node alive), error-less, at most 1024 queued calls.
type LogFn = ThreadsafeFunction<LogArgs, (), LogArgs, Status, false, true, 1024>;

static CALLBACK: RwLock<Option<Arc<LogFn>>> = RwLock::new(None);
static INSTALLED: AtomicBool = AtomicBool::new(false);
/// 0 error, 1 warn, 2 info, 3 debug, 4 trace.
static MAX_LEVEL: AtomicU8 = AtomicU8::new(2);
static DROPPED: AtomicU64 = AtomicU64::new(0);

const OWN_TARGET: &str = env!("CARGO_CRATE_NAME");

fn rank(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 0,
        Level::WARN => 1,
        Level::INFO => 2,
        Level::DEBUG => 3,
        Level::TRACE => 4,
    }
}

fn js_level(level: &Level) -> &'static str {
    match *level {
        Level::ERROR => "error",
        Level::WARN => "warn",
        Level::INFO => "info",
        _ => "debug",
    }
}

fn wanted(meta: &Metadata<'_>) -> bool {
    let r = rank(meta.level());
    if r > MAX_LEVEL.load(Ordering::Relaxed) {
        return false;
    }
    meta.target().starts_with(OWN_TARGET) || r <= 1
}

/// Collects an event's or span's fields as JSON; `message` is kept apart.
#[derive(Default)]
struct JsonVisitor {
    message: Option<String>,
    fields: Map<String, Value>,
}

impl JsonVisitor {
    fn put(&mut self, field: &Field, value: Value) {
        if field.name() == "message" {
            self.message = Some(match value {
                Value::String(s) => s,
                v => v.to_string(),
            });
        } else {
            self.fields.insert(field.name().trim_start_matches("r#").to_string(), value);
        }
    }
}

impl Visit for JsonVisitor {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.put(field, serde_json::Number::from_f64(value).map(Value::Number).unwrap_or(Value::Null));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Value::from(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.put(field, Value::from(crate::redact::redact_urls(&value.to_string())));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let mut s = String::new();
        let _ = write!(s, "{value:?}");
        self.put(field, Value::from(s));
    }
}

/// A span's fields, kept in its extensions so events inside it carry them.
struct SpanFields(Map<String, Value>);

struct JsLayer;

impl<S> Layer<S> for JsLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, _meta: &'static Metadata<'static>) -> tracing::subscriber::Interest {
        // The level can change at run time (`setLogger` again): never cache a verdict.
        tracing::subscriber::Interest::sometimes()
    }

    fn enabled(&self, meta: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        wanted(meta)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut v = JsonVisitor::default();
        attrs.record(&mut v);
        span.extensions_mut().insert(SpanFields(v.fields));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let mut v = JsonVisitor::default();
        values.record(&mut v);
        let mut ext = span.extensions_mut();
        match ext.get_mut::<SpanFields>() {
            Some(f) => f.0.extend(v.fields),
            None => ext.insert(SpanFields(v.fields)),
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let Some(callback) = CALLBACK.read().ok().and_then(|g| g.clone()) else { return };
        let meta = event.metadata();
        let mut v = JsonVisitor::default();
        event.record(&mut v);
        let mut fields = v.fields;
        // Fields of enclosing spans, innermost first; the event's own win.
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope {
                if let Some(f) = span.extensions().get::<SpanFields>() {
                    for (k, val) in &f.0 {
                        fields.entry(k.clone()).or_insert_with(|| val.clone());
                    }
                }
            }
        }
        fields.insert("target".into(), Value::from(meta.target()));
        let message = v.message.unwrap_or_default();
        let args = FnArgs::from((js_level(meta.level()).to_string(), message, Value::Object(fields).to_string()));
        if callback.call(args, ThreadsafeFunctionCallMode::NonBlocking) != Status::Ok {
            DROPPED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Forwards the engine's log events to `callback(level, message, fieldsJson)`.
///
/// `level` (default `info`) is the most verbose level forwarded for the engine's own
/// events; dependencies only report `warn` and `error`. The subscriber is installed once
/// per process; later calls replace the callback and the level. Returns `false` when
/// another global `tracing` subscriber was already installed (nothing is forwarded then).
#[napi(
    ts_args_type = "callback: (level: 'error' | 'warn' | 'info' | 'debug', message: string, fields: string) => void, level?: 'error' | 'warn' | 'info' | 'debug' | 'trace'"
)]
pub fn set_logger(callback: LogFn, level: Option<String>) -> napi::Result<bool, String> {
    let max = match level.as_deref().unwrap_or("info") {
        "error" => 0,
        "warn" => 1,
        "info" => 2,
        "debug" => 3,
        "trace" => 4,
        other => {
            return Err(napi::Error::new(
                "INVALID_ARGUMENT".to_string(),
                format!("setLogger: level must be one of error, warn, info, debug, trace; got '{other}'"),
            ))
        }
    };
    MAX_LEVEL.store(max, Ordering::Relaxed);
    *CALLBACK.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(callback));
    if INSTALLED.swap(true, Ordering::AcqRel) {
        return Ok(true);
    }
    let ok = tracing_subscriber::registry().with(JsLayer).try_init().is_ok();
    if !ok {
        INSTALLED.store(false, Ordering::Release);
    }
    Ok(ok)
}

/// Log events dropped because the JavaScript logger's queue was full.
#[napi]
pub fn dropped_log_events() -> i64 {
    DROPPED.load(Ordering::Relaxed) as i64
}
