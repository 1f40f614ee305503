//! `/api/v1`: the OpenChoreo list endpoints, behind stats, fault injection and auth.
#![allow(clippy::result_large_err)] // handlers return ready-made error responses

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use axum::extract::{Path, Query, Request, State};
use axum::http::HeaderMap;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::cursor::{self, CursorError};
use crate::faults::{Faults, Outcome};
use crate::kind::Kind;
use crate::labels::Selector;
use crate::respond;
use crate::server::MockHandle;
use crate::store::{Filter, Page, PageQuery};

const DEFAULT_LIMIT: usize = 20;
const MAX_LIMIT: i64 = 100;

pub(crate) fn router(handle: MockHandle) -> Router<MockHandle> {
    Router::new()
        .route("/api/v1/namespaces", get(list_namespaces))
        .route("/api/v1/namespaces/{ns}", get(get_namespace))
        .route("/api/v1/namespaces/{ns}/{kind}", get(list_namespaced))
        .route("/api/v1/namespaces/{ns}/{kind}/{name}", get(get_namespaced))
        .route(
            "/api/v1/namespaces/{ns}/{kind}/{name}/schema",
            get(schema_namespaced),
        )
        .route("/api/v1/{kind}", get(list_cluster))
        .route("/api/v1/{kind}/{name}", get(get_cluster))
        .route("/api/v1/{kind}/{name}/schema", get(schema_cluster))
        .layer(middleware::from_fn_with_state(handle, guard))
}

/// Any other path: `/api/v1/...` answers the JSON 404 (counted in the stats), others
/// the admin API's.
pub(crate) async fn fallback(State(h): State<MockHandle>, uri: axum::http::Uri) -> Response {
    if uri.path().starts_with("/api/") {
        h.shared.stats.request(uri.path());
        respond::not_found("resource not found")
    } else {
        respond::not_found("no such admin route")
    }
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
    let verdict = {
        let mut oauth = sh.oauth.lock().unwrap();
        if oauth.settings.require_tokens {
            oauth.check_api(req.headers())
        } else {
            match sh.token.read().unwrap().as_deref() {
                Some(token) => check_bearer(req.headers(), token),
                None => Ok(()),
            }
        }
    };
    if let Err(code) = verdict {
        return respond::unauthorized(code);
    }
    let resp = next.run(req).await;
    if outcome == Outcome::Malformed {
        return respond::truncate_body(resp).await;
    }
    resp
}

fn check_bearer(headers: &HeaderMap, token: &str) -> Result<(), &'static str> {
    match crate::oauth::bearer(headers) {
        None => Err("MISSING_TOKEN"),
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
            // The server's generated parameter binding answers before any handler, in plain text.
            Err(_) => {
                return Err(respond::plain_bad_request(&format!(
                    "Invalid format for parameter limit: error binding string parameter: strconv.ParseInt: parsing \"{s}\": invalid syntax"
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

/// `labelSelector`: a malformed one is a 400, as the server's `labels.Parse` makes it.
fn selector(params: &HashMap<String, String>) -> Result<Option<Selector>, Response> {
    match params.get("labelSelector").filter(|s| !s.trim().is_empty()) {
        None => Ok(None),
        Some(s) => Selector::parse(s)
            .map(Some)
            .map_err(|e| respond::bad_request(&format!("invalid label selector: {e}"))),
    }
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
    let labels = match selector(&params) {
        Ok(s) => s,
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
            labels: labels.as_ref(),
            hidden: &hidden,
        };
        h.shared.store.read().unwrap().list_namespaces(&q)
    };
    h.shared.stats.scanned(page.scanned);
    envelope(page, &paging, &faults)
}

/// The kind a route segment names in that scope. A known kind that is not served (or
/// has no /schema) answers as a server without the route would: Go's plain-text 404.
/// An unknown segment answers the JSON 404 the stand-in always gave.
fn resolve(h: &MockHandle, segment: &str, cluster: bool, schema: bool) -> Result<Kind, Response> {
    let kind = Kind::from_plural(segment)
        .filter(|k| k.is_cluster() == cluster)
        .ok_or_else(|| respond::not_found("resource not found"))?;
    if !h.shared.store.read().unwrap().is_served(kind) || (schema && !kind.has_schema()) {
        return Err(respond::no_route());
    }
    Ok(kind)
}

async fn list_namespaced(
    State(h): State<MockHandle>,
    Path((ns, kind)): Path<(String, String)>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match resolve(&h, &kind, false, false) {
        Ok(kind) => list(&h, kind, &ns, &params),
        Err(resp) => resp,
    }
}

async fn list_cluster(
    State(h): State<MockHandle>,
    Path(kind): Path<String>,
    Query(params): Query<HashMap<String, String>>,
) -> Response {
    match resolve(&h, &kind, true, false) {
        Ok(kind) => list(&h, kind, "", &params),
        Err(resp) => resp,
    }
}

fn list(h: &MockHandle, kind: Kind, ns: &str, params: &HashMap<String, String>) -> Response {
    let faults = h.faults();
    let paging = match paging(params, &faults) {
        Ok(p) => p,
        Err(resp) => return resp,
    };
    let given = |key: &str| {
        params
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    };
    let filter = match (kind, given("project"), given("component")) {
        (k, Some(p), _) if k.info().project_filter => Filter::Project(p),
        (Kind::Workload, _, Some(c)) => Filter::Component(c),
        _ => Filter::All,
    };
    let labels = match selector(params) {
        Ok(s) => s,
        Err(resp) => return resp,
    };
    let hidden = |name: &str| faults.hides(name);
    let q = PageQuery {
        after: paging.after.as_deref(),
        limit: paging.limit,
        filter,
        labels: labels.as_ref(),
        hidden: &hidden,
    };
    let page = {
        let store = h.shared.store.read().unwrap();
        // The server checks the named project before listing (404 when it doesn't exist).
        if let Filter::Project(p) = filter {
            if !matches!(store.get(Kind::Project, ns, p), Ok(Some(_))) {
                return respond::not_found("Project not found");
            }
        }
        if faults.empty_lists {
            empty_page()
        } else {
            // An unknown namespace lists nothing: the server lists Kubernetes objects in it.
            store.list(kind, ns, &q).unwrap_or_else(empty_page)
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

async fn get_namespaced(
    State(h): State<MockHandle>,
    Path((ns, kind, name)): Path<(String, String, String)>,
) -> Response {
    match resolve(&h, &kind, false, false) {
        Ok(kind) => item(&h, kind, &ns, &name, false),
        Err(resp) => resp,
    }
}

async fn get_cluster(
    State(h): State<MockHandle>,
    Path((kind, name)): Path<(String, String)>,
) -> Response {
    match resolve(&h, &kind, true, false) {
        Ok(kind) => item(&h, kind, "", &name, false),
        Err(resp) => resp,
    }
}

async fn schema_namespaced(
    State(h): State<MockHandle>,
    Path((ns, kind, name)): Path<(String, String, String)>,
) -> Response {
    match resolve(&h, &kind, false, true) {
        Ok(kind) => item(&h, kind, &ns, &name, true),
        Err(resp) => resp,
    }
}

async fn schema_cluster(
    State(h): State<MockHandle>,
    Path((kind, name)): Path<(String, String)>,
) -> Response {
    match resolve(&h, &kind, true, true) {
        Ok(kind) => item(&h, kind, "", &name, true),
        Err(resp) => resp,
    }
}

/// One item, or (`schema`) the parameter schema derived from it.
fn item(h: &MockHandle, kind: Kind, ns: &str, name: &str, schema: bool) -> Response {
    match h.get_item(kind, ns, name) {
        Ok(Some(item)) if schema => Json(crate::schema::parameters_schema(&item)).into_response(),
        Ok(Some(item)) => Json::<Value>(item).into_response(),
        Ok(None) => respond::not_found(&format!("{} not found", kind.api_kind().to_lowercase())),
        Err(_) => respond::not_found("namespace not found"),
    }
}
