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
        // Up to the end of the word: a password with a raw '@' or '/' (not
        // percent-encoded) still ends at the last '@'. Over-redacting is the safe side.
        let end = tail.find(|c: char| c.is_whitespace() || c == '"' || c == '\'').unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("***@");
                out.push_str(&redact_password_param(&authority[at + 1..]));
            }
            None => out.push_str(&redact_password_param(authority)),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// `...?password=secret&x=1` -> `...?password=***&x=1` (sqlx accepts the password there).
fn redact_password_param(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("password=") {
        let (head, tail) = rest.split_at(pos + "password=".len());
        out.push_str(head);
        out.push_str("***");
        rest = &tail[tail.find('&').unwrap_or(tail.len())..];
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
        assert_eq!(redact_url("postgres://u:p@ss/w@h/db"), "postgres://***@h/db");
        assert_eq!(redact_url("postgres://h/db?user=u&password=pw&x=1"), "postgres://h/db?user=u&password=***&x=1");
    }
}
