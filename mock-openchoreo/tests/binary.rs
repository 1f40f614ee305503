//! The binary: ready line on stdout, serves, exits cleanly on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

/// Minimal blocking HTTP GET (no client runtime needed here).
fn http_get(addr: &str, path: &str, token: Option<&str>) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn binary_prints_ready_line_serves_and_exits_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-openchoreo"))
        .args([
            "--port",
            "0",
            "--namespaces",
            "2",
            "--projects",
            "3",
            "--components",
            "5",
            "--token",
            "T",
            "--cursor-ttl-secs",
            "60",
            "--seed",
            "3",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    assert!(
        line.starts_with("mock-openchoreo listening on http://127.0.0.1:"),
        "{line}"
    );
    assert!(line.trim_end().ends_with("(30 components)"), "{line}");
    let addr = line
        .split("http://")
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    assert!(!addr.ends_with(":0"));

    assert!(http_get(&addr, "/health", None).ends_with("OK"));
    assert!(http_get(&addr, "/api/v1/namespaces", None).starts_with("HTTP/1.1 401"));
    let ok = http_get(
        &addr,
        "/api/v1/namespaces/ns-001/components?limit=100",
        Some("T"),
    );
    assert!(ok.starts_with("HTTP/1.1 200"));
    assert_eq!(ok.matches("\"kind\":\"Component\"").count(), 15);
    assert!(http_get(&addr, "/admin/faults", None).contains("\"cursorTtlMs\":60000"));

    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success());
}
