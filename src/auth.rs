//! How requests to OpenChoreo are authenticated: not at all, with the static token
//! (`openchoreo.token`), or with OAuth2 client credentials (`openchoreo.auth.*`).
//!
//! Client-credentials tokens are fetched here, kept until shortly before they expire
//! and shared by every clone of the client (the walk and the events alike). Concurrent
//! requests wait for one token request instead of each making their own. A failing token
//! endpoint is an `AUTH` error naming the token URL (never the secret), so the engine
//! backs off as it does for the API.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::Value;

use crate::client::{excerpt, read_body, transport_error};
use crate::config::{ClientCredentials, EngineConfig};
use crate::error::{Error, ErrorCode, Result};
use crate::redact::redact_url;

/// A token is renewed this long before it expires at most (the legacy module's margin)...
const MAX_RENEW_MARGIN: Duration = Duration::from_secs(60);
/// ...and at most this share of its lifetime before, so short-lived tokens are reused too.
const RENEW_MARGIN_SHARE: u32 = 5;
/// The lifetime assumed when the answer says neither `expires_in` nor a JWT `exp`.
const UNKNOWN_LIFETIME: Duration = Duration::from_secs(300);
/// Token requests per fetch when the endpoint fails transiently (down, 5xx, timeout).
const ATTEMPTS: u32 = 2;
/// Issued tokens remembered for scrubbing error text.
const REMEMBERED_TOKENS: usize = 4;

#[derive(Clone)]
pub(crate) enum Auth {
    None,
    Static(Arc<str>),
    ClientCredentials(Arc<TokenSource>),
}

impl Auth {
    pub(crate) fn new(config: &EngineConfig, http: &reqwest::Client) -> Auth {
        if let Some(cc) = &config.client_credentials {
            return Auth::ClientCredentials(Arc::new(TokenSource::new(cc.clone(), http.clone())));
        }
        match config.token.as_deref().filter(|t| !t.is_empty()) {
            Some(t) => Auth::Static(t.into()),
            None => Auth::None,
        }
    }

    pub(crate) fn is_none(&self) -> bool {
        matches!(self, Auth::None)
    }

    /// The bearer token for the next request, if any.
    pub(crate) async fn bearer(&self) -> Result<Option<String>> {
        match self {
            Auth::None => Ok(None),
            Auth::Static(t) => Ok(Some(t.to_string())),
            Auth::ClientCredentials(source) => source.token().await.map(Some),
        }
    }

    /// After OpenChoreo answered 401 to `used`: whether a fresh token is worth one more
    /// try. Only issued tokens are renewable; `used` is forgotten (unless another request
    /// already replaced it).
    pub(crate) fn forget(&self, used: &str) -> bool {
        match self {
            Auth::ClientCredentials(source) => {
                source.forget(used);
                true
            }
            _ => false,
        }
    }

    /// What an operator should check when OpenChoreo refuses the credentials.
    pub(crate) fn refused_hint(&self) -> String {
        match self {
            Auth::None => "OpenChoreo requires credentials: set openchoreo.auth (client credentials) or openchoreo.token".into(),
            Auth::Static(_) => "check openchoreo.token: OpenChoreo refused the credentials".into(),
            Auth::ClientCredentials(source) => format!(
                "OpenChoreo refused the access token issued by {} to openchoreo.auth.clientId '{}' (a 401 is \
                 retried once with a fresh token): check the client's permissions and openchoreo.auth.scope",
                source.shown_url, source.credentials.client_id
            ),
        }
    }

    /// How requests authenticate, for the log (no secret).
    pub(crate) fn describe(&self) -> String {
        match self {
            Auth::None => "none".into(),
            Auth::Static(_) => "static token (openchoreo.token)".into(),
            Auth::ClientCredentials(source) => {
                format!("client credentials of '{}' from {}", source.credentials.client_id, source.shown_url)
            }
        }
    }

    /// `text` without the static token, the client secret or any token issued to us: a
    /// proxy or an identity provider may echo what it was sent.
    pub(crate) fn scrub(&self, text: String) -> String {
        match self {
            Auth::None => text,
            Auth::Static(t) => text.replace(&**t, "***"),
            Auth::ClientCredentials(source) => source.scrub(text),
        }
    }
}

struct Cached {
    token: String,
    renew_at: Instant,
}

/// Tokens of one client, from one token endpoint.
pub(crate) struct TokenSource {
    http: reqwest::Client,
    credentials: ClientCredentials,
    /// `POST <token url>`, as it may be shown.
    shown_url: String,
    current: Mutex<Option<Cached>>,
    /// Held while a token is requested: concurrent callers wait, then share its token.
    fetching: tokio::sync::Mutex<()>,
    issued: Mutex<VecDeque<String>>,
    retry_delay: Duration,
}

impl TokenSource {
    fn new(credentials: ClientCredentials, http: reqwest::Client) -> TokenSource {
        TokenSource {
            http,
            shown_url: redact_url(credentials.token_url.trim()),
            credentials,
            current: Mutex::new(None),
            fetching: tokio::sync::Mutex::new(()),
            issued: Mutex::new(VecDeque::new()),
            retry_delay: Duration::from_millis(200),
        }
    }

    fn cached(&self) -> Option<String> {
        let current = self.current.lock().unwrap();
        current.as_ref().filter(|c| Instant::now() < c.renew_at).map(|c| c.token.clone())
    }

    async fn token(&self) -> Result<String> {
        if let Some(t) = self.cached() {
            return Ok(t);
        }
        let _one_at_a_time = self.fetching.lock().await;
        // Another caller may have fetched one while this one waited.
        if let Some(t) = self.cached() {
            return Ok(t);
        }
        let mut attempt = 1;
        loop {
            match self.fetch().await {
                Ok(cached) => {
                    let token = cached.token.clone();
                    let mut issued = self.issued.lock().unwrap();
                    issued.push_back(token.clone());
                    if issued.len() > REMEMBERED_TOKENS {
                        issued.pop_front();
                    }
                    *self.current.lock().unwrap() = Some(cached);
                    return Ok(token);
                }
                Err((e, transient)) if transient && attempt < ATTEMPTS => {
                    tracing::debug!(attempt, error = %e, "retrying the token request");
                    tokio::time::sleep(self.retry_delay).await;
                    attempt += 1;
                }
                Err((mut e, _)) => {
                    if attempt > 1 {
                        e.message = format!("{} (after {attempt} token requests)", e.message);
                    }
                    e.message = self.scrub(e.message);
                    return Err(e);
                }
            }
        }
    }

    fn forget(&self, used: &str) {
        let mut current = self.current.lock().unwrap();
        if current.as_ref().is_some_and(|c| c.token == used) {
            *current = None;
        }
    }

    fn scrub(&self, mut text: String) -> String {
        let secret = self.credentials.client_secret.as_str();
        if !secret.is_empty() {
            text = text.replace(secret, "***");
        }
        for token in self.issued.lock().unwrap().iter() {
            text = text.replace(token.as_str(), "***");
        }
        text
    }

    /// One token request; an error says whether trying again soon may help.
    async fn fetch(&self) -> std::result::Result<Cached, (Error, bool)> {
        let shown = format!("POST {}", self.shown_url);
        let cc = &self.credentials;
        let scope = cc.scope_param();
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", cc.client_id.as_str()),
            ("client_secret", cc.client_secret.as_str()),
        ];
        form.extend(scope.as_deref().map(|s| ("scope", s)));
        let sent_at = Instant::now();
        let auth = |e: Error, hint: &str| Error::new(ErrorCode::Auth, format!("{} ({hint})", e.message));
        let resp = match self.http.post(cc.token_url.trim()).form(&form).send().await {
            Ok(r) => r,
            Err(e) => {
                let e = transport_error(&shown, e);
                return Err((auth(e, "the OAuth2 token endpoint openchoreo.auth.tokenUrl did not answer"), true));
            }
        };
        let status = resp.status();
        let body = read_body(resp, &shown).await.map_err(|e| (auth(e, "reading the token endpoint's answer"), true))?;
        if !status.is_success() {
            return Err(self.refusal(&shown, status, &body));
        }
        let answer: Value = serde_json::from_slice(&body).map_err(|e| {
            let e = Error::new(ErrorCode::Auth, format!("{shown}: the answer is not JSON ({e}): {}", excerpt(&body)));
            (auth(e, "check openchoreo.auth.tokenUrl: is it the token endpoint?"), false)
        })?;
        let Some(token) = answer["access_token"].as_str().filter(|t| !t.is_empty()) else {
            let e = Error::new(ErrorCode::Auth, format!("{shown}: HTTP {} without an access_token", status.as_u16()));
            return Err((auth(e, "check openchoreo.auth.tokenUrl: is it the token endpoint?"), false));
        };
        let lifetime = lifetime(&answer, token);
        let margin = (lifetime / RENEW_MARGIN_SHARE).min(MAX_RENEW_MARGIN);
        tracing::debug!(token_url = %self.shown_url, lifetime_secs = lifetime.as_secs(), "fetched an OpenChoreo access token");
        Ok(Cached { token: token.to_string(), renew_at: sent_at + lifetime.saturating_sub(margin) })
    }

    /// The token endpoint said no: an OAuth2 error (RFC 6749 5.2), or something else.
    fn refusal(&self, shown: &str, status: StatusCode, body: &[u8]) -> (Error, bool) {
        let json: Option<Value> = serde_json::from_slice(body).ok();
        let code = json.as_ref().and_then(|j| j["error"].as_str()).unwrap_or("");
        let detail = match &json {
            Some(j) => {
                let description = j["error_description"].as_str().or(j["message"].as_str()).unwrap_or("");
                format!("HTTP {} {code}: {description}", status.as_u16())
            }
            None => format!("HTTP {}: {}", status.as_u16(), excerpt(body)),
        };
        let hint = match code {
            "invalid_client" | "unauthorized_client" => {
                "check openchoreo.auth.clientId and openchoreo.auth.clientSecret: the identity provider refused the client"
            }
            "invalid_scope" => "check openchoreo.auth.scope",
            "unsupported_grant_type" => "the client must be allowed the client_credentials grant",
            _ if status == StatusCode::NOT_FOUND || status == StatusCode::METHOD_NOT_ALLOWED => {
                "check openchoreo.auth.tokenUrl: no token endpoint there"
            }
            _ if status.is_server_error() => "the OAuth2 token endpoint openchoreo.auth.tokenUrl failed",
            _ => "check openchoreo.auth.clientId, clientSecret, tokenUrl and scope",
        };
        let transient = status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS;
        (Error::new(ErrorCode::Auth, format!("{shown}: {detail} ({hint})")), transient)
    }
}

/// How long a token lives: `expires_in` (seconds, a number or a numeric string), else
/// the JWT's `exp` claim, else [`UNKNOWN_LIFETIME`].
fn lifetime(answer: &Value, token: &str) -> Duration {
    let expires_in = match &answer["expires_in"] {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    if let Some(secs) = expires_in.filter(|s| s.is_finite() && *s > 0.0) {
        return Duration::from_secs_f64(secs.min(86_400.0 * 365.0));
    }
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64();
    match jwt_exp(token) {
        Some(exp) if exp > now => Duration::from_secs_f64((exp - now).min(86_400.0 * 365.0)),
        // Expired on arrival (a clock apart from ours): use it once, then renew.
        Some(_) => Duration::ZERO,
        None => UNKNOWN_LIFETIME,
    }
}

/// The `exp` claim of a JWT (its payload is base64url JSON), when it is one.
fn jwt_exp(token: &str) -> Option<f64> {
    let payload = token.split('.').nth(1)?;
    let json: Value = serde_json::from_slice(&base64url_decode(payload)?).ok()?;
    json["exp"].as_f64()
}

fn base64url_decode(text: &str) -> Option<Vec<u8>> {
    let value = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' | b'+' => 62,
            b'_' | b'/' => 63,
            _ => return None,
        } as u32)
    };
    let bytes = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut acc = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            acc |= value(c)? << (18 - 6 * i);
        }
        let n = match chunk.len() {
            4 => 3,
            3 => 2,
            2 => 1,
            _ => return None,
        };
        out.extend_from_slice(&acc.to_be_bytes()[1..1 + n]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lifetime_prefers_expires_in_then_the_jwt_exp() {
        assert_eq!(lifetime(&json!({"expires_in": 120}), "opaque"), Duration::from_secs(120));
        assert_eq!(lifetime(&json!({"expires_in": "3599"}), "opaque"), Duration::from_secs(3599));
        assert_eq!(lifetime(&json!({}), "opaque"), UNKNOWN_LIFETIME);
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();
        // {"alg":"none"} . {"sub":"x","exp":<now + 600>} . (no signature)
        let payload = format!("{{\"sub\":\"x\",\"exp\":{}}}", now + 600);
        let jwt = format!("eyJhbGciOiJub25lIn0.{}.", base64url_encode(payload.as_bytes()));
        let got = lifetime(&json!({"access_token": jwt}), &jwt);
        assert!((590..=600).contains(&got.as_secs()), "{got:?}");
        let expired = format!("e30.{}.", base64url_encode(format!("{{\"exp\":{}}}", now - 10).as_bytes()));
        assert_eq!(lifetime(&json!({}), &expired), Duration::ZERO);
    }

    #[test]
    fn base64url_decodes_every_padding() {
        for text in ["", "f", "fo", "foo", "foob", "fooba", "foobar", "\u{ff}\u{fe}?>"] {
            assert_eq!(base64url_decode(&base64url_encode(text.as_bytes())).unwrap(), text.as_bytes());
        }
        assert_eq!(base64url_decode("a"), None);
        assert_eq!(base64url_decode("a*bc"), None);
    }

    fn base64url_encode(bytes: &[u8]) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut out = String::new();
        for chunk in bytes.chunks(3) {
            let mut acc = 0u32;
            for (i, &b) in chunk.iter().enumerate() {
                acc |= (b as u32) << (16 - 8 * i);
            }
            for i in 0..=chunk.len() {
                out.push(ALPHABET[((acc >> (18 - 6 * i)) & 63) as usize] as char);
            }
        }
        out
    }

    #[test]
    fn the_renewal_margin_suits_short_and_long_lifetimes() {
        let margin = |secs: u64| (Duration::from_secs(secs) / RENEW_MARGIN_SHARE).min(MAX_RENEW_MARGIN);
        assert_eq!(margin(3600), Duration::from_secs(60));
        assert_eq!(margin(10), Duration::from_secs(2));
    }
}
