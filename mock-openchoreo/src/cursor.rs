//! Opaque page cursors: base64url (no padding) of `{"v":1,"after":"<last name>","iat":<ms>}`.
//!
//! The cursor carries the last item's name (the sort key), not an offset, so an item
//! deleted mid-walk cannot make the walk skip another; `iat` lets it expire like a
//! Kubernetes continue token does after etcd compaction.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct Cursor {
    pub v: u32,
    /// Resume strictly after this name.
    pub after: String,
    /// Issue time, milliseconds since the Unix epoch.
    pub iat: u64,
}

#[derive(Debug, PartialEq)]
pub(crate) enum CursorError {
    Undecodable,
    Expired,
}

pub(crate) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

pub(crate) fn encode(after: &str, iat: u64) -> String {
    let json = serde_json::to_vec(&Cursor {
        v: 1,
        after: after.to_owned(),
        iat,
    })
    .expect("cursor serialises");
    URL_SAFE_NO_PAD.encode(json)
}

/// Decodes and checks the age of a cursor; a TTL of 0 never expires.
pub(crate) fn decode(s: &str, ttl_ms: u64, now: u64) -> Result<Cursor, CursorError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(s.trim_end_matches('='))
        .map_err(|_| CursorError::Undecodable)?;
    let c: Cursor = serde_json::from_slice(&bytes).map_err(|_| CursorError::Undecodable)?;
    if c.v != 1 {
        return Err(CursorError::Undecodable);
    }
    if ttl_ms > 0 && now.saturating_sub(c.iat) > ttl_ms {
        return Err(CursorError::Expired);
    }
    Ok(c)
}

/// A fresh cursor that resumes a list after `name`. The format is opaque to clients;
/// this exists so tests can jump into the middle of a huge list without walking it.
pub fn cursor_after(name: &str) -> String {
    encode(name, now_ms())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_expiry() {
        let c = encode("ns-000-proj-01", 1_000);
        assert_eq!(decode(&c, 500, 1_400).unwrap().after, "ns-000-proj-01");
        assert_eq!(decode(&c, 500, 1_600), Err(CursorError::Expired));
        assert_eq!(
            decode(&c, 0, u64::MAX),
            Ok(Cursor {
                v: 1,
                after: "ns-000-proj-01".into(),
                iat: 1_000
            })
        );
        assert_eq!(
            decode("not a cursor!", 500, 0),
            Err(CursorError::Undecodable)
        );
        assert_eq!(
            decode("eyJmb28iOjF9", 500, 0),
            Err(CursorError::Undecodable)
        );
    }
}
