//! Response bodies shaped like the real server's, including its faulty ones.

use std::io;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// `ErrorResponse`: `{"error": "...", "code": "..."}`.
pub(crate) fn error(status: StatusCode, message: &str, code: &str) -> Response {
    (status, Json(json!({"error": message, "code": code}))).into_response()
}

pub(crate) fn internal_error() -> Response {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "Internal server error",
        "INTERNAL_ERROR",
    )
}

pub(crate) fn not_found(message: &str) -> Response {
    error(StatusCode::NOT_FOUND, message, "NOT_FOUND")
}

pub(crate) fn bad_request(message: &str) -> Response {
    error(StatusCode::BAD_REQUEST, message, "BAD_REQUEST")
}

/// What the server's generated parameter binding answers: `http.Error`, plain text.
pub(crate) fn plain_bad_request(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{message}\n"),
    )
        .into_response()
}

/// Go's `http.ServeMux` answer for a path it has no route for (an older server
/// without a kind).
pub(crate) fn no_route() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "404 page not found\n",
    )
        .into_response()
}

/// The auth middleware's own shape: `{"error": "MISSING_TOKEN", "message": "..."}`.
pub(crate) fn unauthorized(code: &str) -> Response {
    let mut r = (
        StatusCode::UNAUTHORIZED,
        Json(json!({"error": code, "message": "missing or invalid authentication token"})),
    )
        .into_response();
    r.headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    r
}

/// 502/503 as a proxy in front of the server would send them.
pub(crate) fn proxy_error(status: u16) -> Response {
    let (status, text) = match status {
        502 => (StatusCode::BAD_GATEWAY, "upstream connect error or disconnect/reset before headers. reset reason: connection termination"),
        _ => (StatusCode::SERVICE_UNAVAILABLE, "no healthy upstream"),
    };
    (status, [(header::CONTENT_TYPE, "text/plain")], text).into_response()
}

pub(crate) fn html_error() -> Response {
    let page = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    (
        StatusCode::BAD_GATEWAY,
        [(header::CONTENT_TYPE, "text/html")],
        page,
    )
        .into_response()
}

pub(crate) fn rate_limited(retry_after_secs: u64) -> Response {
    let mut r = error(
        StatusCode::TOO_MANY_REQUESTS,
        "rate limit exceeded, retry later",
        "TOO_MANY_REQUESTS",
    );
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    r
}

/// A response whose body fails: hyper then closes the connection. Failing at once
/// sends nothing at all; `mid_body` first sends the head and the start of a page
/// (with a pause so it is flushed), then aborts the chunked body.
pub(crate) fn cut_connection(mid_body: bool) -> Response {
    let stream = futures_util::stream::unfold(mid_body, move |send_start| async move {
        if send_start {
            return Some((
                Ok(Bytes::from_static(
                    br#"{"items":[{"apiVersion":"openchoreo.dev/v1alpha1","kind":"#,
                )),
                false,
            ));
        }
        if mid_body {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Some((
            Err(io::Error::new(
                io::ErrorKind::ConnectionAborted,
                "injected cut",
            )),
            false,
        ))
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from_stream(stream))
        .expect("static response parts")
}

/// Keeps the status line and headers but sends only the first half of the body.
pub(crate) async fn truncate_body(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    let cut = if bytes.len() >= 2 {
        bytes.slice(..bytes.len() / 2)
    } else {
        Bytes::from_static(b"{")
    };
    parts.status = StatusCode::OK;
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Response::from_parts(parts, Body::from(cut))
}
