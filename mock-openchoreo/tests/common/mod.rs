//! A small HTTP client for the tests: raw status/body access and list walks.
#![allow(dead_code)]

use mock_openchoreo::{InstallationSpec, MockOptions, MockServer};
use serde_json::Value;

pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text))
    }
}

impl Client {
    pub fn new(server: &MockServer) -> Client {
        // Err when already installed: fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Client {
            http: reqwest::Client::new(),
            base: server.url(),
            token: None,
        }
    }

    pub fn with_token(mut self, token: &str) -> Client {
        self.token = Some(token.to_owned());
        self
    }

    pub async fn try_get(&self, path: &str) -> Result<Reply, reqwest::Error> {
        let mut req = self.http.get(format!("{}{}", self.base, path));
        if let Some(t) = &self.token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await?;
        Ok(Reply {
            status,
            headers,
            text,
        })
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.try_get(path)
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        Reply {
            status,
            headers,
            text: resp.text().await.unwrap(),
        }
    }

    /// Follows `nextCursor` to the end; returns item names and the number of calls.
    pub async fn walk(&self, path: &str, limit: usize) -> (Vec<String>, usize) {
        let sep = if path.contains('?') { '&' } else { '?' };
        let (mut names, mut cursor, mut calls) = (Vec::new(), None::<String>, 0);
        loop {
            calls += 1;
            let url = match &cursor {
                Some(c) => format!("{path}{sep}limit={limit}&cursor={c}"),
                None => format!("{path}{sep}limit={limit}"),
            };
            let reply = self.get(&url).await;
            assert_eq!(reply.status, 200, "{url}: {}", reply.text);
            let page = reply.json();
            let items = page["items"].as_array().expect("items array");
            assert!(items.len() <= limit);
            names.extend(items.iter().map(name_of));
            match page["pagination"]["nextCursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => {
                    assert!(
                        page["pagination"].is_object(),
                        "pagination object present on the last page"
                    );
                    return (names, calls);
                }
            }
        }
    }
}

pub fn name_of(item: &Value) -> String {
    item["metadata"]["name"]
        .as_str()
        .expect("metadata.name")
        .to_owned()
}

pub async fn start(spec: InstallationSpec) -> MockServer {
    MockServer::start(MockOptions {
        port: 0,
        spec,
        ..MockOptions::default()
    })
    .await
    .expect("mock starts")
}
