//! `/admin`: JSON control of a running mock for out-of-process users (jest, demos).
//! No auth, not counted in stats, never faulty.
#![allow(clippy::result_large_err)] // handlers return ready-made error responses

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::faults::Faults;
use crate::kind::Kind;
use crate::oauth::OAuthSettings;
use crate::respond;
use crate::server::MockHandle;
use crate::store::MockError;
use crate::synthetic::InstallationSpec;

pub(crate) fn router() -> Router<MockHandle> {
    Router::new()
        .route(
            "/admin/summary",
            get(|State(h): State<MockHandle>| async move { Json(h.summary()) }),
        )
        .route(
            "/admin/stats",
            get(|State(h): State<MockHandle>| async move { Json(h.stats()) }),
        )
        .route("/admin/stats/reset", post(reset_stats))
        .route(
            "/admin/faults",
            get(get_faults).put(put_faults).patch(patch_faults),
        )
        .route(
            "/admin/oauth",
            get(get_oauth).put(put_oauth).patch(patch_oauth),
        )
        .route("/admin/oauth/expire", post(expire_tokens))
        .route("/admin/oauth/stats/reset", post(reset_oauth_stats))
        .route(
            "/admin/installation",
            get(|State(h): State<MockHandle>| async move { Json(h.spec()) }).put(put_installation),
        )
        .route(
            "/admin/namespaces",
            get(|State(h): State<MockHandle>| async move { Json(h.namespaces()) }),
        )
        .route(
            "/admin/namespaces/{ns}",
            get(get_namespace)
                .put(put_namespace)
                .delete(delete_namespace),
        )
        .route("/admin/namespaces/{ns}/{kind}", get(list_names))
        .route(
            "/admin/kinds",
            get(|State(h): State<MockHandle>| async move { Json(kinds(&h)) }),
        )
        .route("/admin/kinds/{kind}/served", axum::routing::put(put_served))
        .route("/admin/cluster/{kind}", get(list_cluster_names))
        .route(
            "/admin/cluster/{kind}/{name}",
            get(get_cluster_item)
                .put(put_cluster_item)
                .delete(delete_cluster_item),
        )
        .route(
            "/admin/namespaces/{ns}/{kind}/{name}",
            get(get_item).put(put_item).delete(delete_item),
        )
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, Response> {
    serde_json::from_slice(body)
        .map_err(|e| respond::bad_request(&format!("invalid JSON body: {e}")))
}

/// Sets `metadata.name` from the path, which names the item.
fn named(mut item: Value, name: &str) -> Result<Value, Response> {
    let obj = item
        .as_object_mut()
        .ok_or_else(|| respond::bad_request("body must be a JSON object"))?;
    let meta = obj
        .entry("metadata")
        .or_insert_with(|| serde_json::json!({}));
    let meta = meta
        .as_object_mut()
        .ok_or_else(|| respond::bad_request("metadata must be an object"))?;
    meta.insert("name".into(), Value::String(name.to_owned()));
    Ok(item)
}

fn kind(segment: &str) -> Result<Kind, Response> {
    Kind::parse(segment).ok_or_else(|| {
        let known: Vec<&str> = Kind::ALL.iter().map(|k| k.plural()).collect();
        respond::not_found(&format!("unknown kind '{segment}' ({})", known.join(", ")))
    })
}

/// Every kind: plural, kind, scope, served.
fn kinds(h: &MockHandle) -> Value {
    Value::Array(
        Kind::ALL
            .iter()
            .map(|k| {
                serde_json::json!({
                    "plural": k.plural(),
                    "kind": k.api_kind(),
                    "scope": if k.is_cluster() { "cluster" } else { "namespace" },
                    "schema": k.has_schema(),
                    "served": h.is_served(*k)
                })
            })
            .collect(),
    )
}

/// Body `true` or `false` (or `{"served": bool}`).
async fn put_served(
    State(h): State<MockHandle>,
    Path(kind_seg): Path<String>,
    body: Bytes,
) -> Response {
    let kind = match kind(&kind_seg) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let served = match parse::<Value>(&body) {
        Ok(Value::Bool(b)) => b,
        Ok(v) => match v.get("served").and_then(Value::as_bool) {
            Some(b) => b,
            None => return respond::bad_request("body must be true, false or {\"served\": bool}"),
        },
        Err(r) => return r,
    };
    h.set_served(kind, served);
    Json(kinds(&h)).into_response()
}

async fn list_cluster_names(State(h): State<MockHandle>, Path(kind_seg): Path<String>) -> Response {
    list_names(State(h), Path((String::new(), kind_seg))).await
}

async fn get_cluster_item(
    State(h): State<MockHandle>,
    Path((kind_seg, name)): Path<(String, String)>,
) -> Response {
    get_item(State(h), Path((String::new(), kind_seg, name))).await
}

async fn put_cluster_item(
    State(h): State<MockHandle>,
    Path((kind_seg, name)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    put_item(State(h), Path((String::new(), kind_seg, name)), body).await
}

async fn delete_cluster_item(
    State(h): State<MockHandle>,
    Path((kind_seg, name)): Path<(String, String)>,
) -> Response {
    delete_item(State(h), Path((String::new(), kind_seg, name))).await
}

fn edit_error(e: MockError) -> Response {
    match e {
        MockError::NamespaceNotFound(_) => respond::not_found("namespace not found"),
        other => respond::bad_request(&other.to_string()),
    }
}

fn put_action(existed: bool) -> &'static str {
    if existed {
        "updated"
    } else {
        "created"
    }
}

/// An item's change event: its kind in lower case (`component`, `clustertrait`), and
/// no namespace for cluster kinds.
fn notify_item(h: &MockHandle, kind: Kind, ns: &str, name: &str, action: &str) {
    let namespace = (!kind.is_cluster()).then_some(ns);
    h.notify(kind.api_kind(), namespace, name, action);
}

fn deleted(existed: bool) -> Response {
    if existed {
        StatusCode::NO_CONTENT.into_response()
    } else {
        respond::not_found("not found")
    }
}

async fn reset_stats(State(h): State<MockHandle>) -> StatusCode {
    h.reset_stats();
    StatusCode::NO_CONTENT
}

async fn get_faults(State(h): State<MockHandle>) -> Json<Faults> {
    Json(h.faults())
}

/// Replaces every fault; omitted fields take their defaults.
async fn put_faults(State(h): State<MockHandle>, body: Bytes) -> Response {
    let faults: Faults = match parse(&body) {
        Ok(f) => f,
        Err(r) => return r,
    };
    apply_faults(&h, faults)
}

/// Changes only the fields given.
async fn patch_faults(State(h): State<MockHandle>, body: Bytes) -> Response {
    let patch: Value = match parse(&body) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Value::Object(patch) = patch else {
        return respond::bad_request("body must be a JSON object");
    };
    let mut current = serde_json::to_value(h.faults()).expect("faults serialise");
    current
        .as_object_mut()
        .expect("faults object")
        .extend(patch);
    match serde_json::from_value::<Faults>(current) {
        Ok(f) => apply_faults(&h, f),
        Err(e) => respond::bad_request(&format!("invalid faults: {e}")),
    }
}

fn apply_faults(h: &MockHandle, faults: Faults) -> Response {
    if let Err(e) = faults.validate() {
        return respond::bad_request(&e);
    }
    h.set_faults(faults);
    Json(faults).into_response()
}

/// `{"settings": ..., "stats": ...}`. Client secrets are shown: the stand-in holds
/// only test secrets.
async fn get_oauth(State(h): State<MockHandle>) -> Json<Value> {
    Json(serde_json::json!({"settings": h.oauth(), "stats": h.oauth_stats()}))
}

/// Replaces the token endpoint's settings; omitted fields take their defaults.
async fn put_oauth(State(h): State<MockHandle>, body: Bytes) -> Response {
    match parse::<OAuthSettings>(&body) {
        Ok(settings) => apply_oauth(&h, settings),
        Err(r) => r,
    }
}

/// Changes only the fields given.
async fn patch_oauth(State(h): State<MockHandle>, body: Bytes) -> Response {
    let Ok(Value::Object(patch)) = parse::<Value>(&body) else {
        return respond::bad_request("body must be a JSON object");
    };
    let mut current = serde_json::to_value(h.oauth()).expect("settings serialise");
    current
        .as_object_mut()
        .expect("settings object")
        .extend(patch);
    match serde_json::from_value::<OAuthSettings>(current) {
        Ok(settings) => apply_oauth(&h, settings),
        Err(e) => respond::bad_request(&format!("invalid oauth settings: {e}")),
    }
}

fn apply_oauth(h: &MockHandle, settings: OAuthSettings) -> Response {
    match h.set_oauth(settings) {
        Ok(()) => get_oauth_now(h),
        Err(e) => respond::bad_request(&e),
    }
}

fn get_oauth_now(h: &MockHandle) -> Response {
    Json(serde_json::json!({"settings": h.oauth(), "stats": h.oauth_stats()})).into_response()
}

async fn expire_tokens(State(h): State<MockHandle>) -> StatusCode {
    h.expire_tokens();
    StatusCode::NO_CONTENT
}

async fn reset_oauth_stats(State(h): State<MockHandle>) -> StatusCode {
    h.reset_oauth_stats();
    StatusCode::NO_CONTENT
}

async fn put_installation(State(h): State<MockHandle>, body: Bytes) -> Response {
    let spec: InstallationSpec = match parse(&body) {
        Ok(s) => s,
        Err(r) => return r,
    };
    match h.set_installation(spec) {
        Ok(()) => Json(h.summary()).into_response(),
        Err(e) => edit_error(e),
    }
}

async fn get_namespace(State(h): State<MockHandle>, Path(ns): Path<String>) -> Response {
    match h.get_namespace(&ns) {
        Some(item) => Json(item).into_response(),
        None => respond::not_found("namespace not found"),
    }
}

/// The body is optional: without one a default `Active` namespace is created.
async fn put_namespace(
    State(h): State<MockHandle>,
    Path(ns): Path<String>,
    body: Bytes,
) -> Response {
    let existed = h.get_namespace(&ns).is_some();
    let result = if body.iter().all(u8::is_ascii_whitespace) {
        h.add_namespace(&ns)
    } else {
        match parse(&body).and_then(|item| named(item, &ns)) {
            Ok(item) => h.put_namespace(item),
            Err(r) => return r,
        }
    };
    match result {
        Ok(()) => {
            h.notify("namespace", None, &ns, put_action(existed));
            Json(h.get_namespace(&ns)).into_response()
        }
        Err(e) => edit_error(e),
    }
}

async fn delete_namespace(State(h): State<MockHandle>, Path(ns): Path<String>) -> Response {
    let existed = h.delete_namespace(&ns);
    if existed {
        h.notify("namespace", None, &ns, "deleted");
    }
    deleted(existed)
}

async fn list_names(
    State(h): State<MockHandle>,
    Path((ns, kind_seg)): Path<(String, String)>,
) -> Response {
    let kind = match kind(&kind_seg) {
        Ok(k) => k,
        Err(r) => return r,
    };
    match h.list_names(kind, &ns) {
        Ok(names) => Json(names).into_response(),
        Err(e) => edit_error(e),
    }
}

async fn get_item(
    State(h): State<MockHandle>,
    Path((ns, kind_seg, name)): Path<(String, String, String)>,
) -> Response {
    let kind = match kind(&kind_seg) {
        Ok(k) => k,
        Err(r) => return r,
    };
    match h.get_item(kind, &ns, &name) {
        Ok(Some(item)) => Json(item).into_response(),
        Ok(None) => respond::not_found("not found"),
        Err(e) => edit_error(e),
    }
}

/// The body is the full item; `metadata.name` is taken from the path.
async fn put_item(
    State(h): State<MockHandle>,
    Path((ns, kind_seg, name)): Path<(String, String, String)>,
    body: Bytes,
) -> Response {
    let kind = match kind(&kind_seg) {
        Ok(k) => k,
        Err(r) => return r,
    };
    let item = match parse(&body).and_then(|item| named(item, &name)) {
        Ok(v) => v,
        Err(r) => return r,
    };
    let existed = matches!(h.get_item(kind, &ns, &name), Ok(Some(_)));
    match h.put_item(kind, &ns, item) {
        Ok(()) => {
            notify_item(&h, kind, &ns, &name, put_action(existed));
            Json(h.get_item(kind, &ns, &name).ok().flatten()).into_response()
        }
        Err(e) => edit_error(e),
    }
}

async fn delete_item(
    State(h): State<MockHandle>,
    Path((ns, kind_seg, name)): Path<(String, String, String)>,
) -> Response {
    let kind = match kind(&kind_seg) {
        Ok(k) => k,
        Err(r) => return r,
    };
    match h.delete_item(kind, &ns, &name) {
        Ok(existed) => {
            if existed {
                notify_item(&h, kind, &ns, &name, "deleted");
            }
            deleted(existed)
        }
        Err(e) => edit_error(e),
    }
}
