//! TLS on both of the engine's connections, with the crypto provider the addon ships
//! (rustls on ring): OpenChoreo over HTTPS, PostgreSQL with `sslmode`. Certificates are
//! verified: an untrusted one is refused with an error that says so.
//!
//! One test binary of its own: it sets `SSL_CERT_FILE`, which is process-wide.

mod common;

use std::sync::Arc;

use common::db::{postgres_available, unique_provider};
use common::harness::*;
use common::pgtemp::{with_param, TempDatabase};
use openchoreo_incremental::engine::Engine;
use sqlx::{Connection, PgConnection};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// A TLS terminator in front of `upstream` (`127.0.0.1:PORT`) with a fresh self-signed
/// certificate for 127.0.0.1; returns its `https://` URL and the certificate as PEM.
async fn https_front(upstream: String) -> (String, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let pem = cert.cert.pem();
    let chain = vec![CertificateDer::from(cert.cert.der().to_vec())];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let (acceptor, upstream) = (acceptor.clone(), upstream.clone());
            tokio::spawn(async move {
                // A refused handshake (the client distrusts us) just ends the connection.
                let Ok(mut tls) = acceptor.accept(socket).await else { return };
                let mut plain = TcpStream::connect(&upstream).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    (url, pem)
}

fn trust_only(pem: &str, dir: &std::path::Path) {
    let file = dir.join("trusted.pem");
    std::fs::write(&file, pem).unwrap();
    // Read by the platform verifier when a client is built (rustls-native-certs).
    std::env::set_var("SSL_CERT_FILE", &file);
}

#[tokio::test]
async fn https_to_openchoreo_and_tls_to_postgresql_verify_certificates() {
    let dir = std::env::temp_dir().join(unique_provider("tls"));
    std::fs::create_dir_all(&dir).unwrap();
    let mock = start_mock(InstallationSpec::small()).await;
    let upstream = mock.url().trim_start_matches("http://").trim_end_matches('/').to_string();
    let (https_url, pem) = https_front(upstream).await;

    // A certificate nobody trusts: refused, with an error that names the certificate.
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    trust_only(&other.cert.pem(), &dir);
    let engine = Engine::open(config(&https_url, "sqlite::memory:", &unique_provider("tls"))).await.unwrap();
    let report = engine.tick(&CatalogSink::default()).await.unwrap();
    let error = report.error.expect("an untrusted server certificate must fail the request");
    assert!(error.to_lowercase().contains("certificate"), "error should name the certificate: {error}");
    engine.close().await;

    // Trusted: a whole cycle over HTTPS.
    trust_only(&pem, &dir);
    let sink = CatalogSink::default();
    let engine = Engine::open(config(&https_url, "sqlite::memory:", &unique_provider("tls"))).await.unwrap();
    run_cycle(&engine, &sink).await;
    assert_eq!(sink.refs(), expected_refs(&mock.handle()));
    engine.close().await;

    if !postgres_available().await {
        return;
    }
    let db = TempDatabase::create("tls").await;
    let mut admin = PgConnection::connect(&db.url).await.unwrap();
    let ssl: String = sqlx::query_scalar("SHOW ssl").fetch_one(&mut admin).await.unwrap();
    if ssl != "on" {
        assert!(std::env::var("CI").map_or(true, |v| v != "true"), "CI=true but PostgreSQL has ssl = {ssl}");
        eprintln!("SKIPPED: PostgreSQL has ssl = {ssl}; the TLS-to-PostgreSQL half did not run");
        return;
    }

    // The server's certificate is not in the bundled roots: verify-full refuses it.
    let refused = Engine::open(config(&https_url, &with_param(&db.url, "sslmode", "verify-full"), "tls")).await;
    let error = format!("{:?}", refused.err().expect("verify-full against an untrusted server certificate must fail"));
    assert!(error.to_lowercase().contains("certificate"), "error should name the certificate: {error}");

    // sslmode=require: encrypted without verification, and every connection of the
    // engine's pool is a TLS one.
    let sink = CatalogSink::default();
    let engine = Engine::open(config(&https_url, &with_param(&db.url, "sslmode", "require"), "tls")).await.unwrap();
    run_cycle(&engine, &sink).await;
    assert_eq!(sink.refs(), expected_refs(&mock.handle()));
    let (tls, plain): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE s.ssl), count(*) FILTER (WHERE NOT s.ssl)
           FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
          WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()",
    )
    .fetch_one(&mut admin)
    .await
    .unwrap();
    assert!(tls > 0 && plain == 0, "engine connections: {tls} over TLS, {plain} in plain text");
    engine.close().await;
}
