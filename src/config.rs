//! Engine configuration: what the Backstage module reads from `app-config.yaml`
//! (`openchoreo.*`), already converted to plain values. Validation lives here, once,
//! and every message names the config key the operator wrote.

use std::time::Duration;

use crate::error::{Error, Result};
use crate::redact::redact_url;

/// The legacy full-refresh provider's name. Using it as the default ownership key makes
/// a switch from the legacy provider clean: the same entity refs, the same owner.
pub const DEFAULT_PROVIDER_NAME: &str = "OpenChoreoEntityProvider";
/// The OpenChoreo API's page size ceiling; larger `chunkSize` values are clamped.
pub const MAX_PAGE_SIZE: u32 = 100;
/// How long past `burstLength` the heartbeat keeps renewing a burst's lease: time for the
/// page in flight (a request may take `requestTimeout`, 30 s by default) and the end of a
/// cycle. Past it, only the burst's own commits renew the lease, so a burst stuck on a
/// catalog that never answers frees the provider `leaseTtl` after its last commit.
pub const BURST_GRACE: Duration = Duration::from_secs(60);

#[derive(Clone)]
pub struct EngineConfig {
    /// Ownership key of the entities in the catalog (`getProviderName()`).
    pub provider_name: String,
    /// OpenChoreo API root, e.g. `http://localhost:8080` (a trailing `/api/v1` is accepted).
    pub base_url: String,
    /// Static bearer token (`openchoreo.token`). Never logged.
    pub token: Option<String>,
    /// OAuth2 client credentials (`openchoreo.auth.*`), set only while
    /// `openchoreo.features.auth.enabled` is not false. Exclusive with `token`.
    pub client_credentials: Option<ClientCredentials>,
    /// Full owner ref for entities without a `backstage.io/owner` annotation.
    pub default_owner: String,
    /// `sqlite://path`, `sqlite::memory:` or `postgres://...`.
    pub database_url: String,
    /// Items per request (`openchoreo.incremental.chunkSize`), 1..=100.
    pub chunk_size: u32,
    pub burst_length: Duration,
    pub burst_interval: Duration,
    pub rest_length: Duration,
    /// Waits after the 1st, 2nd, ... consecutive failure; the last repeats.
    pub backoff: Vec<Duration>,
    /// Refuse a cycle's removals when they exceed this share of the owned entities.
    pub reject_removals_above_percentage: Option<f64>,
    /// Refuse a cycle's removals when the cycle saw no entity at all.
    pub reject_empty_source_collections: bool,
    /// A Domain's owner follows its namespace's `backstage.io/owner` annotation (off: the
    /// default owner, as the legacy module always does).
    pub domain_owner_from_annotation: bool,
    /// Per-request timeout towards OpenChoreo.
    pub request_timeout: Duration,
    /// How long a burst lease lives without renewal (`openchoreo.incremental.leaseTtl`):
    /// a holder that stops (crash, SIGKILL) frees the provider this long after its last
    /// renewal. A running burst renews it every third of it (see [`Self::lease_heartbeat`]).
    pub lease_ttl: Duration,
    /// A list that has not ended after this many pages is refused (a server that pages forever).
    pub max_pages_per_list: i64,
}

/// The OAuth2 client-credentials grant, as the legacy module's token service makes it:
/// a form-encoded POST of `grant_type`, `client_id`, `client_secret` and, when set,
/// `scope` to `token_url`.
#[derive(Clone, PartialEq)]
pub struct ClientCredentials {
    /// `openchoreo.auth.clientId`.
    pub client_id: String,
    /// `openchoreo.auth.clientSecret`. Never logged.
    pub client_secret: String,
    /// `openchoreo.auth.tokenUrl`: the identity provider's token endpoint.
    pub token_url: String,
    /// `openchoreo.auth.scope`: space-separated scopes; none when unset or blank.
    pub scope: Option<String>,
}

impl ClientCredentials {
    /// The scopes as sent: whitespace-separated words joined by one space (the legacy
    /// module splits on whitespace and joins with a space), or none.
    pub fn scope_param(&self) -> Option<String> {
        let words: Vec<&str> = self.scope.as_deref().unwrap_or("").split_whitespace().collect();
        (!words.is_empty()).then(|| words.join(" "))
    }

    fn validate(&self) -> Result<()> {
        for (key, value) in [("clientId", &self.client_id), ("clientSecret", &self.client_secret), ("tokenUrl", &self.token_url)] {
            if value.trim().is_empty() {
                return Err(Error::config(format!(
                    "openchoreo.auth.{key} must not be empty: client credentials need clientId, clientSecret and tokenUrl"
                )));
            }
        }
        let url = self.token_url.trim();
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Error::config(format!(
                "openchoreo.auth.tokenUrl must start with http:// or https://, got '{}'",
                redact_url(url)
            )));
        }
        Ok(())
    }
}

// Hand-written so that the secret never reaches a log line through `{:?}`.
impl std::fmt::Debug for ClientCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCredentials")
            .field("client_id", &self.client_id)
            .field("client_secret", &"***")
            .field("token_url", &redact_url(&self.token_url))
            .field("scope", &self.scope)
            .finish()
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            provider_name: DEFAULT_PROVIDER_NAME.to_string(),
            base_url: String::new(),
            token: None,
            client_credentials: None,
            default_owner: "group:default/openchoreo-users".to_string(),
            database_url: "sqlite::memory:".to_string(),
            chunk_size: 50,
            burst_length: Duration::from_secs(10),
            burst_interval: Duration::from_secs(30),
            rest_length: Duration::from_secs(30 * 60),
            backoff: vec![
                Duration::from_secs(60),
                Duration::from_secs(5 * 60),
                Duration::from_secs(30 * 60),
                Duration::from_secs(3 * 60 * 60),
            ],
            reject_removals_above_percentage: None,
            reject_empty_source_collections: true,
            domain_owner_from_annotation: false,
            request_timeout: Duration::from_secs(30),
            // With bursts started every `burstInterval` on every replica, a burst whose
            // holder died is taken over within burstInterval + leaseTtl.
            lease_ttl: Duration::from_secs(10),
            max_pages_per_list: 100_000,
        }
    }
}

// Hand-written so that the token never reaches a log line through `{:?}`.
impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngineConfig")
            .field("provider_name", &self.provider_name)
            .field("base_url", &redact_url(&self.base_url))
            .field("token", &self.token.as_ref().map(|_| "***"))
            .field("client_credentials", &self.client_credentials)
            .field("default_owner", &self.default_owner)
            .field("database_url", &redact_url(&self.database_url))
            .field("chunk_size", &self.chunk_size)
            .field("burst_length", &self.burst_length)
            .field("burst_interval", &self.burst_interval)
            .field("rest_length", &self.rest_length)
            .field("backoff", &self.backoff)
            .field("reject_removals_above_percentage", &self.reject_removals_above_percentage)
            .field("reject_empty_source_collections", &self.reject_empty_source_collections)
            .field("domain_owner_from_annotation", &self.domain_owner_from_annotation)
            .field("lease_ttl", &self.lease_ttl)
            .finish()
    }
}

impl EngineConfig {
    /// Checks every value; the error names the `app-config.yaml` key, the value and
    /// what is allowed.
    pub fn validate(&self) -> Result<()> {
        let base = self.base_url.trim();
        if base.is_empty() {
            return Err(Error::config("openchoreo.baseUrl is required (e.g. http://localhost:8080)"));
        }
        if !(base.starts_with("http://") || base.starts_with("https://")) {
            return Err(Error::config(format!(
                "openchoreo.baseUrl must start with http:// or https://, got '{}'",
                redact_url(base)
            )));
        }
        if let Some(cc) = &self.client_credentials {
            if self.token.as_deref().is_some_and(|t| !t.is_empty()) {
                return Err(Error::config(
                    "openchoreo.token and openchoreo.auth (clientId, clientSecret, tokenUrl) are both set: \
                     use one of them (remove openchoreo.token to use client credentials, or set \
                     openchoreo.features.auth.enabled to false to use the static token)",
                ));
            }
            cc.validate()?;
        }
        if self.provider_name.trim().is_empty() {
            return Err(Error::config("openchoreo.incremental.providerName must not be empty"));
        }
        if self.default_owner.trim().is_empty() {
            return Err(Error::config("openchoreo.defaultOwner must not be empty"));
        }
        if self.chunk_size == 0 {
            return Err(Error::config(format!(
                "openchoreo.incremental.chunkSize must be between 1 and {MAX_PAGE_SIZE}, got 0"
            )));
        }
        if self.burst_length.is_zero() {
            return Err(Error::config("openchoreo.incremental.burstLength must be greater than 0 seconds"));
        }
        if self.lease_ttl.is_zero() {
            return Err(Error::config("openchoreo.incremental.leaseTtl must be greater than 0 seconds"));
        }
        if self.backoff.is_empty() {
            return Err(Error::config("openchoreo.incremental.backoff must list at least one duration"));
        }
        if let Some(p) = self.reject_removals_above_percentage {
            if !(0.0..=100.0).contains(&p) || p.is_nan() {
                return Err(Error::config(format!(
                    "openchoreo.incremental.rejectRemovalsAbovePercentage must be between 0 and 100, got {p}"
                )));
            }
        }
        let db = self.database_url.trim();
        let accepted = ["sqlite:", "postgres://", "postgresql://", "mysql://", "mariadb://"];
        if !accepted.iter().any(|scheme| db.starts_with(scheme)) {
            // Never echo it: a key/value connection string carries its password in the clear.
            let scheme = db.split_once(':').map(|(s, _)| s).filter(|s| s.chars().all(|c| c.is_ascii_alphanumeric()));
            return Err(Error::config(format!(
                "openchoreo.incremental.database.url must be a sqlite:, postgres:// or mysql:// URL, got {}",
                scheme.map_or("something that is not a URL".to_string(), |s| format!("a '{s}:' URL"))
            )));
        }
        Ok(())
    }

    /// The page size actually requested: the API clamps above 100, so do we.
    pub fn page_size(&self) -> u32 {
        self.chunk_size.clamp(1, MAX_PAGE_SIZE)
    }

    /// The wait after `attempts` consecutive failures (1-based); the last step repeats.
    pub fn backoff_for(&self, attempts: u32) -> Duration {
        let i = (attempts.max(1) as usize - 1).min(self.backoff.len() - 1);
        self.backoff[i]
    }

    /// How often a running burst renews its lease: three renewals fit in one
    /// `leaseTtl`, so one slow renewal never loses it.
    pub fn lease_heartbeat(&self) -> Duration {
        self.lease_ttl / 3
    }

    /// How long the heartbeat renews a burst's lease (`burstLength` + [`BURST_GRACE`]).
    /// The module's scheduler task times out after this plus `leaseTtl`: by then a burst
    /// that still runs holds the lease only while it keeps committing pages.
    pub fn lease_hold_limit(&self) -> Duration {
        self.burst_length + BURST_GRACE
    }

    /// The settings that decide what OpenChoreo answers, as (name, value, secret). A
    /// change of any of them clears the back-off at start-up (see
    /// [`Self::connection_fingerprint`]); a credential added to the config is one line here.
    fn connection_settings(&self) -> [(&'static str, Option<&str>, bool); 6] {
        let oauth = self.client_credentials.as_ref();
        [
            ("baseUrl", Some(self.base_url.trim()), false),
            ("token", self.token.as_deref(), true),
            ("auth.clientId", oauth.map(|c| c.client_id.as_str()), false),
            ("auth.clientSecret", oauth.map(|c| c.client_secret.as_str()), true),
            ("auth.tokenUrl", oauth.map(|c| c.token_url.as_str()), false),
            ("auth.scope", oauth.and_then(|c| c.scope.as_deref()), false),
        ]
    }

    /// SHA-256 (hex) of [`Self::connection_settings`]. A secret enters only as its own
    /// SHA-256, so neither the fingerprint nor anything it is computed from is stored.
    pub fn connection_fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(b"openchoreo-incremental connection settings v1\n");
        for (name, value, secret) in self.connection_settings() {
            h.update(name.as_bytes());
            match value {
                None => h.update(b"\0unset\n"),
                Some(v) => {
                    let hashed;
                    let v = if secret {
                        hashed = hex(&Sha256::digest(v.as_bytes()));
                        hashed.as_bytes()
                    } else {
                        v.as_bytes()
                    };
                    // Length-prefixed: no two lists of values hash the same input.
                    h.update(format!("={}:", v.len()).as_bytes());
                    h.update(v);
                    h.update(b"\n");
                }
            }
        }
        hex(&h.finalize())
    }

    /// The `locationKey` and `managed-by-location` value of every entity we emit.
    pub fn location_key(&self) -> String {
        format!("provider:{}", self.provider_name)
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> EngineConfig {
        EngineConfig { base_url: "http://localhost:8080".into(), ..Default::default() }
    }

    #[test]
    fn errors_name_the_key() {
        let mut c = valid();
        c.chunk_size = 0;
        assert!(c.validate().unwrap_err().message.contains("openchoreo.incremental.chunkSize"));
        let mut c = valid();
        c.base_url = "ftp://x".into();
        assert!(c.validate().unwrap_err().message.contains("openchoreo.baseUrl"));
        let mut c = valid();
        c.reject_removals_above_percentage = Some(150.0);
        assert!(c.validate().unwrap_err().message.contains("rejectRemovalsAbovePercentage"));
    }

    #[test]
    fn debug_hides_secrets() {
        let mut c = valid();
        c.token = Some("tok-123".into());
        c.database_url = "postgres://u:pw@h/db".into();
        let s = format!("{c:?}");
        assert!(!s.contains("tok-123") && !s.contains("pw@"), "{s}");
    }

    fn credentials() -> ClientCredentials {
        ClientCredentials {
            client_id: "backstage".into(),
            client_secret: "cs-SECRET".into(),
            token_url: "https://idp.example/oauth2/token".into(),
            scope: Some("  openid   api://x/.default ".into()),
        }
    }

    #[test]
    fn client_credentials_are_checked_and_exclusive_with_the_token() {
        let mut c = valid();
        c.client_credentials = Some(credentials());
        c.validate().unwrap();
        assert_eq!(credentials().scope_param().as_deref(), Some("openid api://x/.default"));
        assert_eq!(ClientCredentials { scope: Some("  ".into()), ..credentials() }.scope_param(), None);
        c.token = Some("tok".into());
        let e = c.validate().unwrap_err().message;
        assert!(e.contains("openchoreo.token") && e.contains("openchoreo.auth"), "{e}");
        c.token = None;
        for (change, key) in [
            (ClientCredentials { client_id: " ".into(), ..credentials() }, "openchoreo.auth.clientId"),
            (ClientCredentials { client_secret: "".into(), ..credentials() }, "openchoreo.auth.clientSecret"),
            (ClientCredentials { token_url: "idp.example/token".into(), ..credentials() }, "openchoreo.auth.tokenUrl"),
        ] {
            c.client_credentials = Some(change);
            let e = c.validate().unwrap_err().message;
            assert!(e.contains(key) && !e.contains("cs-SECRET"), "{e}");
        }
        c.client_credentials = Some(credentials());
        let shown = format!("{c:?}");
        assert!(!shown.contains("cs-SECRET") && shown.contains("backstage"), "{shown}");
    }

    #[test]
    fn the_connection_fingerprint_changes_with_url_or_token_and_holds_no_secret() {
        let mut c = valid();
        c.token = Some("tok-123".into());
        let fp = c.connection_fingerprint();
        assert_eq!(fp.len(), 64);
        assert!(!fp.contains("tok-123"));
        assert_eq!(fp, c.clone().connection_fingerprint(), "stable");
        let mut other = c.clone();
        other.token = Some("tok-124".into());
        assert_ne!(fp, other.connection_fingerprint(), "a new token");
        other.token = None;
        assert_ne!(fp, other.connection_fingerprint(), "no token");
        let mut other = c.clone();
        other.base_url = "http://other:8080".into();
        assert_ne!(fp, other.connection_fingerprint(), "a new base URL");
        // OAuth2 client credentials: a new secret or client counts; the secret is hashed.
        let mut oauth = c.clone();
        oauth.token = None;
        oauth.client_credentials = Some(ClientCredentials {
            client_id: "backstage".into(),
            client_secret: "cs-SECRET-1".into(),
            token_url: "http://idp/token".into(),
            scope: None,
        });
        let with_secret = oauth.connection_fingerprint();
        assert!(!with_secret.contains("cs-SECRET-1"));
        oauth.client_credentials.as_mut().unwrap().client_secret = "cs-SECRET-2".into();
        assert_ne!(with_secret, oauth.connection_fingerprint(), "a new client secret");
        oauth.client_credentials.as_mut().unwrap().client_id = "other".into();
        assert_ne!(with_secret, oauth.connection_fingerprint(), "a new client id");
        // Settings that do not reach OpenChoreo's answers leave it alone.
        let mut other = c.clone();
        other.burst_length = Duration::from_secs(99);
        other.chunk_size = 7;
        assert_eq!(fp, other.connection_fingerprint());
    }

    #[test]
    fn page_size_clamps_and_backoff_repeats_last() {
        let mut c = valid();
        c.chunk_size = 500;
        assert_eq!(c.page_size(), 100);
        assert_eq!(c.backoff_for(1), Duration::from_secs(60));
        assert_eq!(c.backoff_for(99), Duration::from_secs(3 * 60 * 60));
    }
}
