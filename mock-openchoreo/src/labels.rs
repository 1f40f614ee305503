//! Kubernetes label selectors (`labelSelector`), as the real server hands them to
//! `labels.Parse`: comma-separated requirements, all of which must hold.
//! `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`.

use serde_json::Value;

#[derive(Clone, Debug, PartialEq)]
enum Op {
    In(Vec<String>),
    NotIn(Vec<String>),
    Exists,
    NotExists,
}

#[derive(Clone, Debug, PartialEq)]
struct Requirement {
    key: String,
    op: Op,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Selector(Vec<Requirement>);

impl Selector {
    /// Parses a selector; the error says what was wrong, like the server's message.
    pub fn parse(s: &str) -> Result<Selector, String> {
        let mut reqs = Vec::new();
        for part in split_top_level(s)? {
            let part = part.trim();
            if part.is_empty() {
                if s.trim().is_empty() {
                    continue;
                }
                return Err(format!("found '', expected: identifier in '{s}'"));
            }
            reqs.push(requirement(part)?);
        }
        Ok(Selector(reqs))
    }

    /// Whether an item's `metadata.labels` satisfy every requirement.
    pub fn matches(&self, item: &Value) -> bool {
        let labels = item.pointer("/metadata/labels");
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.0.iter().all(|r| match &r.op {
            Op::In(vals) => get(&r.key).is_some_and(|v| vals.iter().any(|x| x == v)),
            Op::NotIn(vals) => get(&r.key).is_none_or(|v| !vals.iter().any(|x| x == v)),
            Op::Exists => get(&r.key).is_some(),
            Op::NotExists => get(&r.key).is_none(),
        })
    }
}

/// Splits on commas outside parentheses.
fn split_top_level(s: &str) -> Result<Vec<&str>, String> {
    let (mut parts, mut depth, mut start) = (Vec::new(), 0i32, 0);
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => {
                depth -= 1;
                if depth < 0 {
                    return Err(format!("unexpected ')' in '{s}'"));
                }
            }
            ',' if depth == 0 => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err(format!("unclosed '(' in '{s}'"));
    }
    parts.push(&s[start..]);
    Ok(parts)
}

fn requirement(part: &str) -> Result<Requirement, String> {
    if let Some(key) = part.strip_prefix('!') {
        return Ok(Requirement {
            key: key_of(key.trim())?,
            op: Op::NotExists,
        });
    }
    for (sym, negate) in [("!=", true), ("==", false), ("=", false)] {
        if let Some((k, v)) = part.split_once(sym) {
            let value = value_of(v.trim())?;
            let key = key_of(k.trim())?;
            let vals = vec![value];
            let op = if negate { Op::NotIn(vals) } else { Op::In(vals) };
            return Ok(Requirement { key, op });
        }
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if words.len() == 1 {
        return Ok(Requirement {
            key: key_of(words[0])?,
            op: Op::Exists,
        });
    }
    let key = key_of(words[0])?;
    let rest = words[1].trim_start();
    let (negate, list) = if let Some(l) = rest.strip_prefix("notin") {
        (true, l)
    } else if let Some(l) = rest.strip_prefix("in") {
        (false, l)
    } else {
        return Err(format!("unknown operator in '{part}'"));
    };
    let inner = list
        .trim()
        .strip_prefix('(')
        .and_then(|l| l.strip_suffix(')'))
        .ok_or_else(|| format!("expected a parenthesised value list in '{part}'"))?;
    let vals = inner
        .split(',')
        .map(|v| value_of(v.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    if vals.iter().all(String::is_empty) && negate {
        return Err(format!("for 'notin' operator, values set can't be empty in '{part}'"));
    }
    let op = if negate { Op::NotIn(vals) } else { Op::In(vals) };
    Ok(Requirement { key, op })
}

fn is_name(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// A label key: `[prefix/]name`, prefix a DNS subdomain.
fn key_of(k: &str) -> Result<String, String> {
    let ok = match k.split_once('/') {
        Some((prefix, name)) => {
            !prefix.is_empty()
                && prefix.len() <= 253
                && prefix.split('.').all(|p| {
                    is_name(p) && p.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
                })
                && is_name(name)
        }
        None => is_name(k),
    };
    if ok {
        Ok(k.to_owned())
    } else {
        Err(format!("invalid label key \"{k}\""))
    }
}

fn value_of(v: &str) -> Result<String, String> {
    if v.is_empty() || is_name(v) {
        Ok(v.to_owned())
    } else {
        Err(format!("invalid label value: \"{v}\""))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_and_matches() {
        let item = json!({"metadata": {"labels": {"app": "web", "openchoreo.dev/workflow-type": "component"}}});
        for (sel, expected) in [
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app in (api, web)", true),
            ("app notin (web)", false),
            ("openchoreo.dev/workflow-type=component,app", true),
            ("!deprecated", true),
            ("deprecated", false),
            ("missing!=x", true),
            ("", true),
        ] {
            assert_eq!(Selector::parse(sel).unwrap().matches(&item), expected, "{sel}");
        }
        for bad in ["app=(", "a b c", "=x", "app in web", "app=web,", "-x=y", "app=web)"] {
            assert!(Selector::parse(bad).is_err(), "{bad}");
        }
    }
}
