//! The process's TLS crypto provider.
//!
//! reqwest is built with `rustls-no-provider` (its own default, aws-lc-rs, does not
//! cross-compile cleanly), so rustls must be given a provider before any HTTP client is
//! built, or building one panics. sqlx passes ring to its own connections explicitly.

use std::sync::Once;

/// Makes ring the process's rustls provider. Idempotent; call before building a
/// `reqwest::Client`.
pub fn install_crypto_provider() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        // Err only if a provider is already installed, which then serves as well.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
