//! Keeps secrets out of logs, errors and status: credentials embedded in URLs
//! (`postgres://user:password@host`, `https://token@host`) are replaced by `***`.

/// Redacts the userinfo part of one URL.
pub fn redact_url(url: &str) -> String {
    redact_urls(url)
}

/// Redacts the userinfo part of every `scheme://user:pass@host` found in `text`.
pub fn redact_urls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        // The authority ends at the first '/', '?', '#' or whitespace.
        let end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("***@");
                out.push_str(&authority[at + 1..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_user_and_password() {
        assert_eq!(
            redact_urls("error connecting to postgres://app:s3cret@db:5432/x failed"),
            "error connecting to postgres://***@db:5432/x failed"
        );
        assert_eq!(redact_url("https://tok@api.example/api"), "https://***@api.example/api");
        assert_eq!(redact_url("sqlite::memory:"), "sqlite::memory:");
        assert_eq!(redact_url("http://localhost:8080"), "http://localhost:8080");
    }
}
