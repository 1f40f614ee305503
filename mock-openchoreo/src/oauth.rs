//! An OAuth2 token endpoint (`POST /oauth2/token`, client-credentials grant) issuing
//! expiring bearer tokens, and the check `/api/v1` makes when told to require them.
//! Switchable at run time: lifetime, latency, an endpoint that is down, revoked clients.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::cursor::now_ms;
use crate::server::MockHandle;

/// How the token endpoint behaves. Over HTTP (`/admin/oauth`) the fields are camelCase;
/// omitted fields take their defaults.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct OAuthSettings {
    /// Registered clients: id -> secret.
    pub clients: BTreeMap<String, String>,
    /// `/api/v1` accepts only live tokens issued here (a static `--token` is then ignored).
    pub require_tokens: bool,
    /// Lifetime of an issued token, announced as `expires_in` (whole seconds, at least 1).
    pub token_lifetime_ms: u64,
    /// Delay before the token endpoint answers.
    pub latency_ms: u64,
    /// The endpoint answers every request with this status (e.g. 503): it is down.
    pub fail_status: Option<u16>,
    /// Clients the endpoint refuses (`invalid_client`); the API refuses their tokens too.
    pub revoked: BTreeSet<String>,
    /// A token request must name every one of these scopes (space-separated).
    pub required_scope: Option<String>,
}

impl Default for OAuthSettings {
    fn default() -> Self {
        OAuthSettings {
            clients: BTreeMap::new(),
            require_tokens: false,
            token_lifetime_ms: 300_000,
            latency_ms: 0,
            fail_status: None,
            revoked: BTreeSet::new(),
            required_scope: None,
        }
    }
}

impl OAuthSettings {
    pub fn validate(&self) -> Result<(), String> {
        if self.fail_status.is_some_and(|s| !(400..=599).contains(&s)) {
            return Err("failStatus must be an HTTP error status (400..599)".into());
        }
        if self.token_lifetime_ms == 0 {
            return Err("tokenLifetimeMs must be greater than 0".into());
        }
        Ok(())
    }
}

/// What the token endpoint and the API's token check did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OAuthStats {
    /// Requests to `/oauth2/token`, answered or not.
    pub token_requests: u64,
    pub tokens_issued: u64,
    /// Token requests refused (bad client, revoked, bad grant or scope, endpoint down).
    pub token_refusals: u64,
    /// `/api/v1` requests refused for a missing, unknown, expired or revoked token.
    pub api_refusals: u64,
    /// Of those, refused because the token had expired.
    pub api_expired: u64,
    /// The `scope` of the last token request, as sent.
    pub last_scope: Option<String>,
}

struct Issued {
    client: String,
    expires_at_ms: u64,
}

#[derive(Default)]
pub(crate) struct OAuthState {
    pub settings: OAuthSettings,
    issued: HashMap<String, Issued>,
    stats: OAuthStats,
}

static TOKEN_COUNTER: AtomicU64 = AtomicU64::new(0);

impl OAuthState {
    pub fn stats(&self) -> OAuthStats {
        self.stats.clone()
    }

    pub fn reset_stats(&mut self) {
        self.stats = OAuthStats::default();
    }

    /// Every issued token expires now.
    pub fn expire_all(&mut self) {
        let now = now_ms();
        for t in self.issued.values_mut() {
            t.expires_at_ms = t.expires_at_ms.min(now);
        }
    }

    /// Whether `/api/v1` lets a request with this `Authorization` header through; the
    /// `Err` is the auth middleware's error code.
    pub fn check_api(&mut self, headers: &HeaderMap) -> Result<(), &'static str> {
        let verdict = match bearer(headers).and_then(|t| self.issued.get(t)) {
            None if bearer(headers).is_none() => Err("MISSING_TOKEN"),
            None => Err("INVALID_TOKEN"),
            Some(t) if t.expires_at_ms <= now_ms() => {
                self.stats.api_expired += 1;
                Err("TOKEN_EXPIRED")
            }
            Some(t) if self.settings.revoked.contains(&t.client) => Err("INVALID_TOKEN"),
            Some(_) => Ok(()),
        };
        if verdict.is_err() {
            self.stats.api_refusals += 1;
        }
        verdict
    }

    fn issue(&mut self, client: &str) -> (String, u64) {
        let n = TOKEN_COUNTER.fetch_add(1, Ordering::SeqCst);
        let now = now_ms();
        let token = format!("mock-at-{n}-{:x}", crate::prng::hash(&[n, now, 0x70C]));
        let lifetime = self.settings.token_lifetime_ms;
        // Forget long-expired tokens so a long run does not grow without bound.
        self.issued.retain(|_, t| t.expires_at_ms + 600_000 > now);
        self.issued.insert(
            token.clone(),
            Issued {
                client: client.to_owned(),
                expires_at_ms: now + lifetime,
            },
        );
        self.stats.tokens_issued += 1;
        (token, lifetime.div_ceil(1000).max(1))
    }
}

/// The bearer token of a request, if it has one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

/// RFC 6749 section 5.2 error answer.
fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// `POST /oauth2/token`: the client-credentials grant, the client authenticated in the
/// form body (`client_secret_post`, as the legacy module sends it) or with HTTP Basic.
pub(crate) async fn token(
    State(h): State<MockHandle>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (latency, fail_status) = {
        let mut st = h.shared.oauth.lock().unwrap();
        st.stats.token_requests += 1;
        (st.settings.latency_ms, st.settings.fail_status)
    };
    if latency > 0 {
        tokio::time::sleep(Duration::from_millis(latency)).await;
    }
    let refuse = |response: Response| {
        h.shared.oauth.lock().unwrap().stats.token_refusals += 1;
        response
    };
    if let Some(status) = fail_status {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        return refuse(
            (
                status,
                [(header::CONTENT_TYPE, "text/plain")],
                "no healthy upstream",
            )
                .into_response(),
        );
    }
    let form: HashMap<String, String> = match serde_urlencoded::from_bytes(&body) {
        Ok(f) => f,
        Err(_) => {
            return refuse(oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the body is not form-encoded",
            ))
        }
    };
    let (id, secret) = match basic_credentials(&headers) {
        Some(pair) => pair,
        None => (
            form.get("client_id").cloned().unwrap_or_default(),
            form.get("client_secret").cloned().unwrap_or_default(),
        ),
    };
    let mut st = h.shared.oauth.lock().unwrap();
    st.stats.last_scope = form.get("scope").cloned();
    let verdict = if form.get("grant_type").map(String::as_str) != Some("client_credentials") {
        Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is supported",
        ))
    } else if st.settings.clients.get(&id) != Some(&secret) || st.settings.revoked.contains(&id) {
        Err(oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed",
        ))
    } else if let Some(missing) = st.settings.required_scope.as_deref().and_then(|required| {
        let asked: BTreeSet<&str> = form
            .get("scope")
            .map(|s| s.split_whitespace().collect())
            .unwrap_or_default();
        required
            .split_whitespace()
            .find(|s| !asked.contains(s))
            .map(str::to_owned)
    }) {
        Err(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            &format!("the scope {missing} is required"),
        ))
    } else {
        Ok(())
    };
    match verdict {
        Err(response) => {
            st.stats.token_refusals += 1;
            response
        }
        Ok(()) => {
            let (token, expires_in) = st.issue(&id);
            let mut r = Json(json!({
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": expires_in,
            }))
            .into_response();
            r.headers_mut().insert(
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            );
            r
        }
    }
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}
