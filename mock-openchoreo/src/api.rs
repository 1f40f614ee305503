//! `/api/v1`: the OpenChoreo list endpoints, behind stats, fault injection and auth.
#![allow(clippy::result_large_err)] // handlers return ready-made error responses

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::{Path, Query, Request, State};
use axum::http::{header, HeaderMap};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::cursor::{self, CursorError};
use crate::faults::{Faults, Outcome};
use crate::kind::Kind;
use crate::respond;
use crate::server::MockHandle;
use crate::store::{Filter, Page, PageQuery};

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: i64 = 100;

pub(crate) fn router(handle: MockHandle) -> Router<MockHandle> {
    Router::new()
        .route("/api/v1/namespaces", get(list_namespaces))
        .route("/api/v1/namespaces/{ns}", get(get_namespace))
        .route("/api/v1/namespaces/{ns}/{kind}", get(list_kind))
        .route("/api/v1/namespaces/{ns}/{kind}/{name}", get(get_item))
        .route(
            "/api/v1/{*rest}",
            any(|| async { respond::not_found("resource not found") }),
        )
        .layer(middleware::from_fn_with_state(handle, guard))
}

/// Runs before every `/api/v1` handler: count, delay, maybe fail, then check the token.
async fn guard(State(h): State<MockHandle>, req: Request, next: Next) -> Response {
    let sh = &h.shared;
    sh.stats.request(req.uri().path());
    let faults = *sh.faults.read().unwrap();
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let outcome = faults.roll(sh.fault_counter.fetch_add(1, Ordering::SeqCst));
    sh.stats.fault(outcome);
    match outcome {
        Outcome::Cut { mid_body } => return respond::cut_connection(mid_body),
        Outcome::Error(500) => return respond::internal_error(),
        Outcome::Error(status) => return respond::proxy_error(status),
        Outcome::RateLimited => return respond::rate_limited(faults.retry_after_secs),
        Outcome::Html => return respond::html_error(),
        Outcome::Pass | Outcome::Malformed => {}
    }
    let token = sh.token.read().unwrap().clone();
    if let Some(token) = token {
        if let Err(code) = check_bearer(req.headers(), &token) {
            return respond::unauthorized(code);
        }
    }
    let resp = next.run(req).await;
    if outcome == Outcome::Malformed {
        return respond::truncate_body(resp).await;
    }
    resp
}

fn check_bearer(headers: &HeaderMap, token: &str) -> Result<(), &'static str> {
    let value = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let presented = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim);
    match presented {
        None | Some("") => Err("MISSING_TOKEN"),
        Some(t) if t == token => Ok(()),
        Some(_) => Err("INVALID_TOKEN"),
    }
}

/// `limit` and `cursor` as the real server reads them.
struct Paging {
    limit: usize,
    after: Option<String>,
    raw_cursor: Option<String>,
}

fn paging(params: &HashMap<String, String>, faults: &Faults) -> Result<Paging, Response> {
    let limit = match params
        .get("limit")
        .map(|s| s.trim())
        .filter(|s| !s.is_empty())
    {
        None => DEFAULT_LIMIT,
        Some(s) => match s.parse::<i64>() {
            Ok(n) => n.clamp(1, MAX_LIMIT) as usize, // clamped, not rejected, like the server
            Err(_) => {
                return Err(respond::bad_request(&format!(
                    "invalid limit parameter '{s}': must be an integer"
                )))
            }
        },
    };
    let raw_cursor = params.get("cursor").filter(|s| !s.is_empty()).cloned();
    let after = match &raw_cursor {
        None => None,
        // Expired and undecodable cursors both surface as a bare 500, as on the real server.
        Some(c) => match cursor::decode(c, faults.cursor_ttl_ms, cursor::now_ms()) {
            Ok(c) => Some(c.after),
            Err(CursorError::Expired | CursorError::Undecodable) => {
                return Err(respond::internal_error())
            }
        },
    };
    Ok(Paging {
        limit,
        after,
        raw_cursor,
    })
}

fn envelope(page: Page, paging: &Paging, faults: &Faults) -> Response {
    let next = if faults.repeat_cursor {
        Some(paging.raw_cursor.clone().unwrap_or_else(|| {
            cursor::encode(page.last.as_deref().unwrap_or(""), cursor::now_ms())
        }))
    } else if page.more {
        page.last
            .as_deref()
            .map(|last| cursor::encode(last, cursor::now_ms()))
    } else {
        None
    };
    let pagination = match next {
        Some(c) => json!({"nextCursor": c}),
        None => json!({}),
    };
    Json(json!({"items": page.items, "pagination": pagination})).into_response()
}

fn empty_page() -> Page {
    Page {
        items: Vec::new(),
        last: None,
        more: false,
        scanned: 0,
    }
}

async fn list_namespaces(
    State(h): State<MockHandle>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let faults = h.faults();
    let paging = match paging(&params, &faults) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let page = if faults.empty_lists {
        empty_page()
    } else {
        let hidden = |name: &str| faults.hides(name);
        let q = PageQuery {
            after: paging.after.as_deref(),
            limit: paging.limit,
            filter: Filter::All,
            hidden: &hidden,
        };
        h.shared.store.read().unwrap().list_namespaces(&q)
    };
    h.shared.stats.scanned(page.scanned);
    envelope(page, &paging, &faults)
}

async fn list_kind(
    State(h): State<MockHandle>,
    Path((ns, kind)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    let Some(kind) = Kind::parse(&kind).filter(|k| k.plural() == kind) else {
        return respond::not_found("resource not found");
    };
    let faults = h.faults();
    let paging = match paging(&params, &faults) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let filter = match (kind, params.get("project"), params.get("component")) {
        (Kind::Component, Some(p), _) if !p.is_empty() => Filter::Project(p),
        (Kind::Workload, _, Some(c)) if !c.is_empty() => Filter::Component(c),
        _ => Filter::All,
    };
    let hidden = |name: &str| faults.hides(name);
    let q = PageQuery {
        after: paging.after.as_deref(),
        limit: paging.limit,
        filter,
        hidden: &hidden,
    };
    let page = {
        let store = h.shared.store.read().unwrap();
        if !store.has_namespace(&ns) {
            return respond::not_found("namespace not found");
        }
        if faults.empty_lists {
            empty_page()
        } else {
            store.list(kind, &ns, &q).expect("namespace exists")
        }
    };
    h.shared.stats.scanned(page.scanned);
    envelope(page, &paging, &faults)
}

async fn get_namespace(State(h): State<MockHandle>, Path(ns): Path<String>) -> Response {
    match h.get_namespace(&ns) {
        Some(item) => Json(item).into_response(),
        None => respond::not_found("namespace not found"),
    }
}

async fn get_item(
    State(h): State<MockHandle>,
    Path((ns, kind, name)): Path<(String, String, String)>,
) -> Response {
    let Some(kind) = Kind::parse(&kind).filter(|k| k.plural() == kind) else {
        return respond::not_found("resource not found");
    };
    match h.get_item(kind, &ns, &name) {
        Ok(Some(item)) => Json::<Value>(item).into_response(),
        Ok(None) => respond::not_found(&format!("{} not found", kind.api_kind().to_lowercase())),
        Err(_) => respond::not_found("namespace not found"),
    }
}
