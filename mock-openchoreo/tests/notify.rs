//! Change events: each `/admin` edit POSTs `{kind, name, namespace?, action}` to the
//! notify URL, as a portal's events HTTP ingress receives them.

mod common;

use std::time::Duration;

use common::{start, Client};
use mock_openchoreo::{InstallationSpec, Kind};
use reqwest::Method;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::mpsc;

/// One received POST: its request line, headers (lower-cased) and JSON body.
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A plain TCP listener standing in for the events ingress: answers 202 to every
/// request and hands each one to the test.
async fn ingress() -> (String, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/events/http/openchoreo", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = listener.accept().await.unwrap();
            let tx = tx.clone();
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Read the head, then exactly Content-Length bytes of body.
                let (head_end, length) = loop {
                    let n = socket.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "connection closed before the request was complete");
                    buf.extend_from_slice(&chunk[..n]);
                    if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&buf[..i]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map(|v| v.trim().parse::<usize>().unwrap())
                            .expect("a Content-Length header");
                        break (i + 4, length);
                    }
                };
                while buf.len() < head_end + length {
                    let n = socket.read(&mut chunk).await.unwrap();
                    assert!(n > 0, "connection closed inside the body");
                    buf.extend_from_slice(&chunk[..n]);
                }
                let head = String::from_utf8_lossy(&buf[..head_end - 4]).into_owned();
                let mut lines = head.split("\r\n");
                let request_line = lines.next().unwrap().to_owned();
                let headers = lines
                    .filter_map(|l| l.split_once(':'))
                    .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_owned()))
                    .collect();
                let body = serde_json::from_slice(&buf[head_end..head_end + length]).unwrap();
                socket
                    .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                    .await
                    .unwrap();
                let _ = tx.send(Received { request_line, headers, body });
            });
        }
    });
    (url, rx)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(5), rx.recv())
        .await
        .expect("a change event within 5 s")
        .expect("the ingress is running")
}

#[tokio::test]
async fn admin_edits_post_their_change_events() {
    let server = start(InstallationSpec::small()).await;
    let h = server.handle();
    let client = Client::new(&server);
    let (url, mut rx) = ingress().await;
    h.set_notify_url(Some(&url)).unwrap();
    assert_eq!(h.notify_url().as_deref(), Some(url.as_str()));

    // Updating an existing component.
    let mut comp = h.get_item(Kind::Component, "ns-000", "ns-000-proj-00-comp-000").unwrap().unwrap();
    comp["metadata"]["annotations"]["openchoreo.dev/description"] = json!("edited");
    let r = client
        .send(Method::PUT, "/admin/namespaces/ns-000/components/ns-000-proj-00-comp-000", Some(comp))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let e = next(&mut rx).await;
    assert_eq!(e.request_line, "POST /api/events/http/openchoreo HTTP/1.1");
    assert_eq!(e.header("content-type"), Some("application/json"));
    assert!(e.header("host").is_some_and(|host| url.contains(host)));
    assert_eq!(
        e.body,
        json!({"kind": "component", "name": "ns-000-proj-00-comp-000", "namespace": "ns-000", "action": "updated"})
    );

    // Creating a project, a namespace and a cluster item; deleting them again.
    let r = client
        .send(Method::PUT, "/admin/namespaces/ns-001/projects/fresh", Some(json!({"spec": {}})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(next(&mut rx).await.body, json!({"kind": "project", "name": "fresh", "namespace": "ns-001", "action": "created"}));
    let r = client.send(Method::PUT, "/admin/namespaces/ns-new", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(next(&mut rx).await.body, json!({"kind": "namespace", "name": "ns-new", "action": "created"}));
    let r = client.send(Method::PUT, "/admin/cluster/clustertraits/ct-new", Some(json!({"spec": {}}))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(next(&mut rx).await.body, json!({"kind": "clustertrait", "name": "ct-new", "action": "created"}));
    let r = client.send(Method::DELETE, "/admin/cluster/clustertraits/ct-new", None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(next(&mut rx).await.body, json!({"kind": "clustertrait", "name": "ct-new", "action": "deleted"}));
    let r = client.send(Method::DELETE, "/admin/namespaces/ns-001/projects/fresh", None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(next(&mut rx).await.body, json!({"kind": "project", "name": "fresh", "namespace": "ns-001", "action": "deleted"}));
    let r = client.send(Method::DELETE, "/admin/namespaces/ns-new", None).await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(next(&mut rx).await.body, json!({"kind": "namespace", "name": "ns-new", "action": "deleted"}));

    // A failed edit and a delete of nothing publish nothing; nor does anything once unset.
    let r = client.send(Method::DELETE, "/admin/namespaces/ns-000/components/never-was", None).await;
    assert_eq!(r.status, 404);
    let r = client.send(Method::PUT, "/admin/namespaces/nowhere/components/c", Some(json!({}))).await;
    assert_eq!(r.status, 404);
    h.set_notify_url(None).unwrap();
    let r = client.send(Method::DELETE, "/admin/namespaces/ns-000/components/ns-000-proj-00-comp-001", None).await;
    assert_eq!(r.status, 204);
    assert!(tokio::time::timeout(Duration::from_millis(300), rx.recv()).await.is_err(), "no event expected");
}

#[tokio::test]
async fn an_unreachable_ingress_does_not_fail_the_edit() {
    let server = start(InstallationSpec::small()).await;
    let h = server.handle();
    // A port nothing listens on (bound, then released).
    let port = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap().port();
    h.set_notify_url(Some(&format!("http://127.0.0.1:{port}/x"))).unwrap();
    let r = Client::new(&server).send(Method::PUT, "/admin/namespaces/ns-009", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(h.set_notify_url(Some("https://portal/x")).unwrap_err().contains("only http://"));
}
