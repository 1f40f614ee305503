//! `EngineOptions` (plain JS object) -> `EngineConfig`. Values are checked here only for
//! what JavaScript can get wrong that Rust types cannot (NaN, negative, fractional counts);
//! everything else is `EngineConfig::validate`'s job. Messages name the `app-config.yaml` key.

use std::time::Duration;

use napi_derive::napi;

use super::error::config_error;
use crate::config::{ClientCredentials, EngineConfig};
use crate::error::Error;

/// Engine settings, already read from `app-config.yaml`. Unset fields take the engine's
/// defaults (`EngineConfig::default()`).
#[napi(object)]
#[derive(Clone, Default)]
pub struct EngineOptions {
    /// Ownership key of the entities (`getProviderName()`); default `OpenChoreoEntityProvider`.
    pub provider_name: Option<String>,
    /// OpenChoreo API root, e.g. `http://localhost:8080` (`openchoreo.baseUrl`).
    pub base_url: String,
    /// Static bearer token (`openchoreo.token`).
    pub token: Option<String>,
    /// OAuth2 client credentials (`openchoreo.auth.*`); leave unset when
    /// `openchoreo.features.auth.enabled` is false. Exclusive with `token`.
    pub client_credentials: Option<ClientCredentialsOptions>,
    /// Full owner entity ref, e.g. `group:default/openchoreo-users`.
    pub default_owner: Option<String>,
    /// `sqlite://path`, `sqlite::memory:` or `postgres://...`; default `sqlite::memory:`.
    pub database_url: Option<String>,
    /// Items per request, 1..; values above 100 are clamped to 100.
    pub chunk_size: Option<f64>,
    pub burst_length_seconds: Option<f64>,
    pub burst_interval_seconds: Option<f64>,
    pub rest_length_minutes: Option<f64>,
    /// Waits after the 1st, 2nd, ... consecutive failure, in seconds; the last repeats.
    pub backoff_seconds: Option<Vec<f64>>,
    /// 0..=100: refuse a cycle's removals above this share of the owned entities.
    pub reject_removals_above_percentage: Option<f64>,
    /// Refuse a cycle's removals when the cycle saw no entity at all (default true).
    pub reject_empty_source_collections: Option<bool>,
    /// A Domain's owner follows its namespace's `backstage.io/owner` (default false).
    pub domain_owner_from_annotation: Option<bool>,
    pub request_timeout_seconds: Option<f64>,
    /// Seconds a burst lease lives past its last renewal (default 10): a holder that
    /// stops frees the provider this long after.
    pub lease_ttl_seconds: Option<f64>,
}

/// `openchoreo.auth.*`: the OAuth2 client-credentials grant.
#[napi(object)]
#[derive(Clone, Default)]
pub struct ClientCredentialsOptions {
    pub client_id: String,
    pub client_secret: String,
    pub token_url: String,
    /// Space-separated scopes.
    pub scope: Option<String>,
}

fn duration(key: &str, unit: &str, value: f64, scale: f64) -> Result<Duration, Error> {
    if !value.is_finite() || value < 0.0 {
        return Err(config_error(format!(
            "{key} must be a non-negative number of {unit}, got {value}"
        )));
    }
    Duration::try_from_secs_f64(value * scale)
        .map_err(|_| config_error(format!("{key} is out of range: {value} {unit}")))
}

impl EngineOptions {
    pub fn into_config(self) -> Result<EngineConfig, Error> {
        let client_credentials = self.client_credentials.map(|o| ClientCredentials {
            client_id: o.client_id,
            client_secret: o.client_secret,
            token_url: o.token_url,
            scope: o.scope,
        });
        let mut c = EngineConfig { base_url: self.base_url, token: self.token, client_credentials, ..Default::default() };
        if let Some(v) = self.provider_name {
            c.provider_name = v;
        }
        if let Some(v) = self.default_owner {
            c.default_owner = v;
        }
        if let Some(v) = self.database_url {
            c.database_url = v;
        }
        if let Some(v) = self.chunk_size {
            if !v.is_finite() || v < 1.0 || v.fract() != 0.0 {
                return Err(config_error(format!(
                    "openchoreo.incremental.chunkSize must be a whole number from 1 to {}, got {v}",
                    crate::config::MAX_PAGE_SIZE
                )));
            }
            c.chunk_size = v.min(u32::MAX as f64) as u32;
        }
        if let Some(v) = self.burst_length_seconds {
            c.burst_length = duration("openchoreo.incremental.burstLength", "seconds", v, 1.0)?;
        }
        if let Some(v) = self.burst_interval_seconds {
            c.burst_interval = duration("openchoreo.incremental.burstInterval", "seconds", v, 1.0)?;
        }
        if let Some(v) = self.rest_length_minutes {
            c.rest_length = duration("openchoreo.incremental.restLength", "minutes", v, 60.0)?;
        }
        if let Some(list) = self.backoff_seconds {
            c.backoff = list
                .into_iter()
                .enumerate()
                .map(|(i, v)| duration(&format!("openchoreo.incremental.backoff[{i}]"), "seconds", v, 1.0))
                .collect::<Result<_, _>>()?;
        }
        if let Some(v) = self.reject_removals_above_percentage {
            c.reject_removals_above_percentage = Some(v);
        }
        if let Some(v) = self.reject_empty_source_collections {
            c.reject_empty_source_collections = v;
        }
        if let Some(v) = self.domain_owner_from_annotation {
            c.domain_owner_from_annotation = v;
        }
        if let Some(v) = self.request_timeout_seconds {
            let d = duration("openchoreo.incremental.requestTimeout", "seconds", v, 1.0)?;
            if d.is_zero() {
                return Err(config_error("openchoreo.incremental.requestTimeout must be greater than 0 seconds"));
            }
            c.request_timeout = d;
        }
        if let Some(v) = self.lease_ttl_seconds {
            c.lease_ttl = duration("openchoreo.incremental.leaseTtl", "seconds", v, 1.0)?;
        }
        c.validate()?;
        Ok(c)
    }
}
