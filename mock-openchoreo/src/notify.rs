//! Change events: after each `/admin` edit the stand-in can POST `{kind, name,
//! namespace?, action}` to a URL (a portal's events HTTP ingress), as OpenChoreo's
//! portal publishes them. Fire-and-forget: a failed delivery is only logged.
//!
//! A plain HTTP/1.1 POST over a `TcpStream` (`http://` only) keeps an HTTP client out
//! of the stand-in's dependencies.

use std::time::Duration;

use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long one delivery may take (connect, send, read the status line).
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Where events go: `host:port` to connect to, the `Host` header and the request path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct NotifyUrl {
    url: String,
    authority: String,
    path: String,
}

impl NotifyUrl {
    pub(crate) fn parse(url: &str) -> Result<NotifyUrl, String> {
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("notify URL {url:?}: only http:// URLs are supported"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() || authority.contains('@') {
            return Err(format!("notify URL {url:?}: expected http://host[:port]/path"));
        }
        let authority = if authority.rsplit_once(':').is_some_and(|(_, p)| p.parse::<u16>().is_ok()) {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        Ok(NotifyUrl { url: url.to_owned(), authority, path: path.to_owned() })
    }

    pub(crate) fn as_str(&self) -> &str {
        &self.url
    }
}

/// The event an admin edit publishes. `namespace` is `None` for namespaces themselves
/// and cluster-scoped kinds.
pub(crate) fn event(kind: &str, namespace: Option<&str>, name: &str, action: &str) -> Value {
    let mut e = json!({"kind": kind.to_ascii_lowercase(), "name": name, "action": action});
    if let Some(ns) = namespace {
        e["namespace"] = json!(ns);
    }
    e
}

/// Delivers `event` in the background; errors go to stderr.
pub(crate) fn send(to: NotifyUrl, event: Value) {
    tokio::spawn(async move {
        match tokio::time::timeout(DELIVERY_TIMEOUT, post(&to, &event.to_string())).await {
            Ok(Ok(status)) if (200..300).contains(&status) => {}
            Ok(Ok(status)) => eprintln!("mock-openchoreo: change event to {} answered {status}: {event}", to.url),
            Ok(Err(e)) => eprintln!("mock-openchoreo: change event to {} failed: {e}: {event}", to.url),
            Err(_) => eprintln!("mock-openchoreo: change event to {} timed out: {event}", to.url),
        }
    });
}

/// One `POST` with `Connection: close`; the response's status code.
async fn post(to: &NotifyUrl, body: &str) -> std::io::Result<u16> {
    let mut stream = TcpStream::connect(&to.authority).await?;
    let request = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        to.path,
        to.authority,
        body.len()
    );
    stream.write_all(request.as_bytes()).await?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await?;
    let head = String::from_utf8_lossy(&response[..response.len().min(64)]).into_owned();
    head.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("not an HTTP response: {head:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_http_urls_only() {
        let u = NotifyUrl::parse("http://127.0.0.1:7007/api/events/http/openchoreo").unwrap();
        assert_eq!((u.authority.as_str(), u.path.as_str()), ("127.0.0.1:7007", "/api/events/http/openchoreo"));
        let u = NotifyUrl::parse("http://portal").unwrap();
        assert_eq!((u.authority.as_str(), u.path.as_str()), ("portal:80", "/"));
        assert!(NotifyUrl::parse("https://portal/x").unwrap_err().contains("only http://"));
        assert!(NotifyUrl::parse("http:///x").is_err());
    }

    #[test]
    fn events_name_the_resource() {
        assert_eq!(
            event("Component", Some("ns"), "c", "updated"),
            json!({"kind": "component", "name": "c", "namespace": "ns", "action": "updated"})
        );
        assert_eq!(event("namespace", None, "ns", "deleted"), json!({"kind": "namespace", "name": "ns", "action": "deleted"}));
    }
}
