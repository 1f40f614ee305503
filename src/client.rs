//! The OpenChoreo HTTP client: one list page per call, every failure classified.
//!
//! Retries here are short and local (a dropped connection, one 5xx, a short
//! `Retry-After`); anything longer goes back to the engine, which backs off and later
//! resumes from the last committed page.

use std::time::Duration;

use reqwest::header::{HeaderMap, AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::value::RawValue;
use serde_json::Value;

use crate::auth::Auth;
use crate::config::EngineConfig;
use crate::error::{Error, ErrorCode, Result};
use crate::redact::redact_url;

/// Bodies above this are refused: a page of at most 100 items has no business being larger.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// Attempts per page for transient failures before the engine's back-off takes over.
const ATTEMPTS: u32 = 3;
/// A `Retry-After` up to this long is waited out inside the burst; longer ones end it.
const MAX_INLINE_RETRY_AFTER: Duration = Duration::from_secs(10);

/// One page of a list: raw items (each is checked on its own later, so one bad item
/// does not lose its page) and the cursor of the next page.
#[derive(Debug)]
pub struct Page {
    pub items: Vec<Box<RawValue>>,
    pub next_cursor: Option<String>,
    /// HTTP requests this page cost, retries included.
    pub requests: u32,
    /// Milliseconds from the first request to the answer, retries included.
    pub fetch_millis: f64,
}

#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    /// `<baseUrl>/api/v1`, without a trailing slash.
    api_root: String,
    /// Shared by every clone: one token cache for the walk and the events.
    auth: Auth,
    page_size: u32,
    retry_delay: Duration,
}

impl Client {
    pub fn new(config: &EngineConfig) -> Result<Client> {
        crate::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .timeout(config.request_timeout)
            .connect_timeout(Duration::from_secs(10))
            .pool_idle_timeout(Duration::from_secs(90))
            .user_agent(concat!("openchoreo-incremental/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::config(format!("could not build the HTTP client: {e}")))?;
        let auth = Auth::new(config, &http);
        tracing::info!(auth = %auth.describe(), "OpenChoreo requests authenticate with");
        let base = config.base_url.trim().trim_end_matches('/');
        let base = base.strip_suffix("/api/v1").unwrap_or(base);
        // Credentials in the URL become a Basic `Authorization` header, which would sit in
        // front of the bearer token: with a token configured, the token alone speaks.
        let base = if auth.is_none() { base.to_string() } else { without_userinfo(base) };
        Ok(Client {
            http,
            api_root: format!("{base}/api/v1"),
            auth,
            page_size: config.page_size(),
            retry_delay: Duration::from_millis(200),
        })
    }

    /// The API root as it may be shown (credentials redacted).
    pub fn api_root(&self) -> String {
        redact_url(&self.api_root)
    }

    /// How requests authenticate, as it may be shown (no secret).
    pub fn auth_mode(&self) -> String {
        self.auth.describe()
    }

    /// Checks that the server speaks the current, cursor-paginated API.
    pub async fn probe(&self) -> Result<()> {
        self.fetch_page("/namespaces", None, 1).await.map(|_| ())
    }

    /// Fetches one page of `path` (relative to `/api/v1`, e.g. `/namespaces/x/projects`).
    pub async fn list(&self, path: &str, cursor: Option<&str>) -> Result<Page> {
        self.fetch_page(path, cursor, self.page_size).await
    }

    /// Whether `GET /namespaces/{ns}` finds the namespace: `false` only on the API's own
    /// 404 for it. `ns_segment` is already percent-encoded.
    pub async fn namespace_exists(&self, ns_segment: &str) -> Result<bool> {
        let Answer { shown, status, headers, body, .. } = self.get(&format!("/namespaces/{ns_segment}"), &[]).await?;
        if status.is_success() {
            return Ok(true);
        }
        // Only OpenChoreo's own answer counts: its ErrorResponse with code NOT_FOUND. A
        // gateway's JSON 404 (no route matched) says nothing about the namespace.
        let api_not_found = status == StatusCode::NOT_FOUND
            && serde_json::from_slice::<Value>(&body).is_ok_and(|j| j["code"] == "NOT_FOUND");
        if api_not_found {
            return Ok(false);
        }
        Err(self.scrub(self.status_error(&shown, status, &headers, &body, false)))
    }

    async fn fetch_page(&self, path: &str, cursor: Option<&str>, limit: u32) -> Result<Page> {
        let started = std::time::Instant::now();
        let (mut page, requests) = self.retrying(path, || self.fetch_once(path, cursor, limit)).await?;
        page.requests = requests;
        page.fetch_millis = started.elapsed().as_secs_f64() * 1000.0;
        Ok(page)
    }

    /// One resource below the API root (e.g. a type's `/schema`), as JSON, with the
    /// retries of a page; and the requests it cost.
    pub async fn get_json(&self, path: &str) -> Result<(Value, u32)> {
        self.retrying(path, || async {
            let Answer { shown, status, headers, body, sent } = self.get(path, &[]).await?;
            if !status.is_success() {
                return Err(self.status_error(&shown, status, &headers, &body, false));
            }
            serde_json::from_slice(&body)
                .map(|json| (json, sent))
                .map_err(|e| Error::new(ErrorCode::InvalidResponse, format!("{shown}: the body is not JSON: {e}")))
        })
        .await
    }

    /// Runs one request until it succeeds or fails for good (short local retries, see the
    /// module's doc); the result and the HTTP requests made. An attempt answers its result
    /// and its own requests (two when a 401 renewed the token).
    async fn retrying<T, F, Fut>(&self, path: &str, mut attempt: F) -> Result<(T, u32)>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<(T, u32)>>,
    {
        let mut requests = 0;
        loop {
            requests += 1;
            match attempt().await {
                Ok((done, sent)) => return Ok((done, requests - 1 + sent)),
                Err(e) => {
                    let retry_in = match e.code {
                        ErrorCode::Transient | ErrorCode::InvalidResponse => Some(self.retry_delay * requests),
                        // One more try tells a passing 5xx from an expired cursor, which
                        // fails every time; after that the walk restarts the list.
                        ErrorCode::CursorExpired if requests < 2 => Some(self.retry_delay),
                        ErrorCode::RateLimited => e.retry_after.filter(|d| *d <= MAX_INLINE_RETRY_AFTER),
                        _ => None,
                    };
                    match retry_in {
                        Some(delay) if requests < ATTEMPTS => {
                            tracing::debug!(path, attempt = requests, error = %e, "retrying OpenChoreo request");
                            tokio::time::sleep(delay).await;
                        }
                        _ => {
                            let mut e = self.scrub(e);
                            if requests > 1 {
                                e.message = format!("{} (after {requests} attempts)", e.message);
                            }
                            return Err(e);
                        }
                    }
                }
            }
        }
    }

    async fn fetch_once(&self, path: &str, cursor: Option<&str>, limit: u32) -> Result<(Page, u32)> {
        let limit = limit.to_string();
        let mut query = vec![("limit", limit.as_str())];
        query.extend(cursor.map(|c| ("cursor", c)));
        let Answer { shown, status, headers, body, sent } = self.get(path, &query).await?;
        if !status.is_success() {
            return Err(self.status_error(&shown, status, &headers, &body, cursor.is_some()));
        }
        parse_page(&shown, &body).map(|page| (page, sent))
    }
}

/// One answer of OpenChoreo: what is shown of the request (credentials redacted), the
/// status, headers and body, and the HTTP requests it took.
struct Answer {
    shown: String,
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
    sent: u32,
}

impl Client {
    /// Removes credentials from an error's text: a proxy may echo request headers back.
    fn scrub(&self, mut e: Error) -> Error {
        e.message = self.auth.scrub(e.message);
        e
    }

    /// [`status_error`] with the credentials' own advice on a 401/403.
    fn status_error(&self, shown: &str, status: StatusCode, headers: &HeaderMap, body: &[u8], had_cursor: bool) -> Error {
        let mut e = status_error(shown, status, headers, body, had_cursor);
        if e.code == ErrorCode::Auth {
            e.message = format!("{} ({})", e.message, self.auth.refused_hint());
        }
        e
    }

    /// One authenticated GET below the API root. A 401 to an issued token is answered
    /// by one more try with a fresh token before it counts.
    async fn get(&self, path: &str, query: &[(&str, &str)]) -> Result<Answer> {
        let url = format!("{}{}", self.api_root, path);
        let shown = format!("GET {}", redact_url(&url));
        let mut sent = 0;
        loop {
            let bearer = self.auth.bearer().await?;
            sent += 1;
            let mut req = self.http.get(&url).query(query);
            if let Some(t) = &bearer {
                req = req.header(AUTHORIZATION, format!("Bearer {t}"));
            }
            let resp = req.send().await.map_err(|e| transport_error(&shown, e))?;
            let status = resp.status();
            if status == StatusCode::UNAUTHORIZED && sent == 1 && bearer.as_deref().is_some_and(|t| self.auth.forget(t)) {
                tracing::debug!(path, "OpenChoreo refused the access token (expired or revoked?); trying once with a fresh one");
                continue;
            }
            let headers = resp.headers().clone();
            let body = read_body(resp, &shown).await?;
            return Ok(Answer { shown, status, headers, body, sent });
        }
    }
}

/// `scheme://user:pass@host/...` -> `scheme://host/...`.
fn without_userinfo(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}://{}", &rest[at + 1..]),
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    }
}

pub(crate) fn transport_error(shown: &str, e: reqwest::Error) -> Error {
    let what = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else {
        "connection failed"
    };
    // reqwest's message can carry the URL; ours is already redacted.
    Error::new(ErrorCode::Transient, format!("{shown}: {what}: {}", redact_url(&crate::error::with_sources(&e.without_url()))))
}

pub(crate) async fn read_body(mut resp: reqwest::Response, shown: &str) -> Result<Vec<u8>> {
    if resp.content_length().is_some_and(|n| n as usize > MAX_BODY_BYTES) {
        return Err(too_large(shown));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| {
        Error::new(ErrorCode::Transient, format!("{shown}: response cut off: {}", e.without_url()))
    })? {
        if body.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large(shown));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn too_large(shown: &str) -> Error {
    Error::new(ErrorCode::InvalidResponse, format!("{shown}: response larger than {} MiB", MAX_BODY_BYTES >> 20))
}

/// A short, printable excerpt of a body for error messages.
pub(crate) fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn status_error(shown: &str, status: StatusCode, headers: &HeaderMap, body: &[u8], had_cursor: bool) -> Error {
    let json: Option<Value> = serde_json::from_slice(body).ok();
    let code = json.as_ref().and_then(|j| j["code"].as_str().or(j["error"].as_str())).unwrap_or("");
    let detail = match &json {
        Some(j) => {
            let msg = j["message"].as_str().or(j["error"].as_str()).unwrap_or("");
            format!("HTTP {} {code}: {msg}", status.as_u16())
        }
        None => {
            let ctype = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("no content type");
            format!("HTTP {} with a non-JSON body ({ctype}): {}", status.as_u16(), excerpt(body))
        }
    };
    let message = format!("{shown}: {detail}");
    match status.as_u16() {
        // The client adds what to check: it knows which credentials were sent.
        401 | 403 => Error::new(ErrorCode::Auth, message),
        404 if json.is_some() => Error::new(ErrorCode::NotFound, message),
        // A 404 page that is not the API's JSON: something in front of it answered.
        404 => Error::new(
            ErrorCode::InvalidResponse,
            format!("{message} (not the OpenChoreo API's answer: a proxy or ingress in the way?)"),
        ),
        429 => {
            let mut e = Error::new(ErrorCode::RateLimited, message);
            e.retry_after = headers
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_secs)
                .or(Some(Duration::from_secs(1)));
            e
        }
        // The real server maps an expired (or undecodable) cursor to a plain 500; a 410
        // is what unmerged proposals used. Either way the list can restart.
        500 | 410 if had_cursor => Error::new(ErrorCode::CursorExpired, message),
        _ if status.is_server_error() => Error::new(ErrorCode::Transient, message),
        _ => Error::new(ErrorCode::InvalidResponse, message),
    }
}

fn parse_page(shown: &str, body: &[u8]) -> Result<Page> {
    /// The envelope. Read in one pass as `Envelope<Vec<Box<RawValue>>>`: each item left
    /// as raw text, parsed on its own later, so one bad item does not lose its page. An
    /// envelope that fails is read again as `Envelope<&RawValue>` to say what is wrong.
    #[derive(serde::Deserialize)]
    struct Envelope<'a, Items> {
        #[serde(default = "Option::default")]
        items: Option<Items>,
        #[serde(borrow, default)]
        pagination: Option<&'a RawValue>,
        #[serde(borrow, default)]
        success: Option<&'a RawValue>,
        #[serde(borrow, default)]
        data: Option<&'a RawValue>,
    }
    let no_pagination = |has_org_envelope: bool| {
        let era = if has_org_envelope {
            "it looks like an organization-era OpenChoreo (the {success, data} envelope)"
        } else {
            "it is not the current OpenChoreo API"
        };
        Error::new(
            ErrorCode::Incompatible,
            format!(
                "{shown}: the answer has no `pagination` object, so {era}; this module needs the \
                 cursor-paginated API (OpenChoreo 2026-03 or later). Got: {}",
                excerpt(body)
            ),
        )
    };
    let is_object = |raw: Option<&RawValue>| raw.is_some_and(|r| r.get().starts_with('{'));
    // An object, not any JSON: serde would also read a struct from an array.
    if !body.trim_ascii_start().starts_with(b"{") {
        return Err(match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
            Err(e) => Error::new(ErrorCode::InvalidResponse, format!("{shown}: response is not valid JSON ({e}): {}", excerpt(body))),
            Ok(_) => Error::new(ErrorCode::Incompatible, format!("{shown}: expected a JSON object, got {}", excerpt(body))),
        });
    }
    let envelope: Envelope<Vec<Box<RawValue>>> = match serde_json::from_slice(body) {
        Ok(envelope) => envelope,
        Err(e) => {
            return Err(match serde_json::from_slice::<Envelope<&RawValue>>(body) {
                Err(_) => match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                    Err(e) => Error::new(
                        ErrorCode::InvalidResponse,
                        format!("{shown}: response is not valid JSON ({e}): {}", excerpt(body)),
                    ),
                    Ok(_) => Error::new(
                        ErrorCode::InvalidResponse,
                        format!("{shown}: the response envelope cannot be read ({e}): {}", excerpt(body)),
                    ),
                },
                Ok(loose) if !is_object(loose.pagination) => no_pagination(loose.success.is_some() && loose.data.is_some()),
                Ok(Envelope { items: Some(raw), .. }) if !raw.get().starts_with('[') => {
                    let other: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
                    Error::new(ErrorCode::InvalidResponse, format!("{shown}: `items` is not an array but {}", type_name(&other)))
                }
                Ok(_) => Error::new(
                    ErrorCode::InvalidResponse,
                    format!("{shown}: the response envelope cannot be read ({e}): {}", excerpt(body)),
                ),
            })
        }
    };
    let pagination: Option<Value> = envelope.pagination.and_then(|p| serde_json::from_str(p.get()).ok());
    let Some(Value::Object(pagination)) = pagination else {
        return Err(no_pagination(envelope.success.is_some() && envelope.data.is_some()));
    };
    let items = envelope.items.unwrap_or_default();
    let next_cursor = match pagination.get("nextCursor") {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        Some(Value::String(_)) | Some(Value::Null) | None => None,
        Some(other) => {
            return Err(Error::new(
                ErrorCode::InvalidResponse,
                format!("{shown}: `pagination.nextCursor` is not a string but {}", type_name(other)),
            ))
        }
    };
    Ok(Page { items, next_cursor, requests: 1, fetch_millis: 0.0 })
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_credentials_give_way_to_a_token() {
        assert_eq!(without_userinfo("http://u:p@h:1/x"), "http://h:1/x");
        assert_eq!(without_userinfo("https://h"), "https://h");
        let config = EngineConfig {
            base_url: "http://u:p@h:1".into(),
            token: Some("t".into()),
            ..Default::default()
        };
        assert_eq!(Client::new(&config).unwrap().api_root, "http://h:1/api/v1");
        let config = EngineConfig { token: None, ..config };
        assert_eq!(Client::new(&config).unwrap().api_root, "http://u:p@h:1/api/v1");
    }

    #[test]
    fn org_era_envelope_is_incompatible() {
        let body = br#"{"success":true,"data":{"items":[],"totalCount":0,"page":0,"pageSize":0}}"#;
        let e = parse_page("GET http://x/api/v1/namespaces", body).unwrap_err();
        assert_eq!(e.code, ErrorCode::Incompatible);
        assert!(e.message.contains("organization-era") && e.message.contains("http://x/api/v1/namespaces"));
    }

    #[test]
    fn what_is_wrong_with_an_envelope_is_named_in_order() {
        let kind = |body: &[u8]| parse_page("GET x", body).unwrap_err().code;
        // No pagination at all: not this API, whatever else is wrong.
        assert_eq!(kind(br#"{"items":5}"#), ErrorCode::Incompatible);
        assert_eq!(kind(br#"{"items":[],"pagination":null}"#), ErrorCode::Incompatible);
        // A JSON array is not an envelope, even one that would decode field by field.
        assert_eq!(kind(b"[]"), ErrorCode::Incompatible);
        assert_eq!(kind(br#"[[{"a":1}],{"nextCursor":"x"}]"#), ErrorCode::Incompatible);
        assert_eq!(kind(b"{not json"), ErrorCode::InvalidResponse);
        let e = parse_page("GET x", br#"{"items":5,"pagination":{}}"#).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidResponse);
        assert!(e.message.contains("`items` is not an array but a number"), "{e}");
        let p = parse_page("GET x", br#"{"items":null,"pagination":{"nextCursor":"c"}}"#).unwrap();
        assert!(p.items.is_empty());
        assert_eq!(p.next_cursor.as_deref(), Some("c"));
    }

    #[test]
    fn last_page_has_no_cursor() {
        let p = parse_page("GET x", br#"{"items":[{"a":1}],"pagination":{}}"#).unwrap();
        assert_eq!(p.items.len(), 1);
        assert!(p.next_cursor.is_none());
    }

    #[test]
    fn html_error_is_named() {
        let mut h = HeaderMap::new();
        h.insert(CONTENT_TYPE, "text/html".parse().unwrap());
        let e = status_error("GET x", StatusCode::BAD_GATEWAY, &h, b"<html><body>Bad gateway</body></html>", false);
        assert_eq!(e.code, ErrorCode::Transient);
        assert!(e.message.contains("non-JSON") && e.message.contains("text/html"), "{}", e.message);
    }

    #[test]
    fn cursor_500_is_expiry_and_401_is_auth() {
        let body = br#"{"error":"Internal server error","code":"INTERNAL_ERROR"}"#;
        let h = HeaderMap::new();
        assert_eq!(status_error("x", StatusCode::INTERNAL_SERVER_ERROR, &h, body, true).code, ErrorCode::CursorExpired);
        assert_eq!(status_error("x", StatusCode::INTERNAL_SERVER_ERROR, &h, body, false).code, ErrorCode::Transient);
        let auth = br#"{"error":"MISSING_TOKEN","message":"missing or invalid authentication token"}"#;
        let e = status_error("x", StatusCode::UNAUTHORIZED, &h, auth, false);
        assert_eq!(e.code, ErrorCode::Auth);
        assert!(e.message.contains("MISSING_TOKEN"));
    }
}
