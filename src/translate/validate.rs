//! The checks the Backstage catalog applies to an entity's envelope (the
//! `FieldFormatEntityPolicy` rules of `@backstage/catalog-model` and the required spec
//! fields of the built-in kinds), written by hand. Every translated entity passes
//! [`validate_entity`] or is reported as an error instead of being emitted: an entity
//! the catalog would reject is better refused here, with a message naming the field.

use super::common::{Doc, Field};

/// The longest entity name, namespace, tag or label value Backstage accepts.
pub const MAX_NAME_LEN: usize = 63;

fn is_alnum(c: char) -> bool {
    c.is_ascii_alphanumeric()
}

/// Runs of characters accepted by `part`, joined by single characters accepted by
/// `sep`; no leading, trailing or doubled separators. E.g. `^[a-z0-9]+(-[a-z0-9]+)*$`.
fn is_separated_sequence(s: &str, part: impl Fn(char) -> bool, sep: impl Fn(char) -> bool) -> bool {
    let mut prev_sep = true; // start behaves as if after a separator: must begin with a part char
    for c in s.chars() {
        if part(c) {
            prev_sep = false;
        } else if sep(c) {
            if prev_sep {
                return false;
            }
            prev_sep = true;
        } else {
            return false;
        }
    }
    !prev_sep
}

/// `metadata.name`: 1-63 chars, `^[a-zA-Z0-9]+([-_.][a-zA-Z0-9]+)*$`.
pub fn is_valid_entity_name(s: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&s.len()) && is_separated_sequence(s, is_alnum, |c| matches!(c, '-' | '_' | '.'))
}

/// `metadata.namespace`: Backstage requires a DNS label, 1-63 chars,
/// `^[a-z0-9]+(-[a-z0-9]+)*$` (stricter than a name: lower case, `-` only).
pub fn is_valid_namespace(s: &str) -> bool {
    is_dns_label(s)
}

fn is_dns_label(s: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&s.len())
        && is_separated_sequence(s, |c| c.is_ascii_lowercase() || c.is_ascii_digit(), |c| c == '-')
}

fn is_dns_subdomain(s: &str) -> bool {
    (1..=253).contains(&s.len()) && s.split('.').all(is_dns_label)
}

/// A tag: 1-63 chars, `^[a-z0-9:+#]+(-[a-z0-9:+#]+)*$`.
pub fn is_valid_tag(s: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&s.len())
        && is_separated_sequence(
            s,
            |c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, ':' | '+' | '#'),
            |c| c == '-',
        )
}

/// An annotation or label key: `[prefix/]name`, the prefix a DNS subdomain and the name
/// a valid entity name.
pub fn is_valid_key(s: &str) -> bool {
    let mut parts = s.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(name), None, None) => is_valid_entity_name(name),
        (Some(prefix), Some(name), None) => is_dns_subdomain(prefix) && is_valid_entity_name(name),
        _ => false,
    }
}

/// A label value: empty, or a valid entity name.
pub fn is_valid_label_value(s: &str) -> bool {
    s.is_empty() || is_valid_entity_name(s)
}

const NAME_RULE: &str = "1-63 characters: letters and digits, separated by single '-', '_' or '.'";
const NAMESPACE_RULE: &str = "1-63 characters: lower-case letters and digits, separated by single '-'";
const TAG_RULE: &str = "1-63 characters: [a-z0-9:+#], separated by single '-'";
fn invalid(field: &str, value: &str, rule: &str) -> String {
    format!("{field} {value:?} is not valid for Backstage (must be {rule})")
}

fn required<'a>(doc: &'a Doc, key: &str) -> Result<&'a str, String> {
    match doc.spec.iter().find(|(k, _)| *k == key).map(|(_, v)| v) {
        Some(Field::Str(s)) if !s.trim().is_empty() => Ok(s),
        Some(Field::Str(s)) => Err(format!("spec.{key} {s:?} must not be empty")),
        Some(_) => Err(format!("spec.{key} must be a string")),
        None => Err(format!("spec.{key} is required")),
    }
}

fn optional_non_empty(doc: &Doc, key: &str) -> Result<(), String> {
    match doc.spec.iter().find(|(k, _)| *k == key).map(|(_, v)| v) {
        Some(Field::Str(s)) if s.trim().is_empty() => Err(format!("spec.{key} {s:?} must not be empty")),
        Some(Field::Str(_)) | None => Ok(()),
        Some(_) => Err(format!("spec.{key} must be a string")),
    }
}

fn string_lists(doc: &Doc) -> Result<(), String> {
    for (key, value) in &doc.spec {
        if let Field::List(items) = value {
            if let Some(i) = items.iter().position(|s| s.trim().is_empty()) {
                return Err(format!("spec.{key}[{i}] {:?} must be a non-empty string", items[i]));
            }
        }
    }
    Ok(())
}

/// Checks an entity the way the catalog would; `Err` names the offending field and value.
/// Annotation keys and labels are this module's constants (checked once by a test).
pub fn validate_doc(doc: &Doc) -> Result<(), String> {
    if !is_valid_entity_name(&doc.name) {
        return Err(invalid("metadata.name", &doc.name, NAME_RULE));
    }
    if let Some(ns) = doc.namespace {
        if !is_valid_namespace(ns) {
            return Err(invalid("metadata.namespace", ns, NAMESPACE_RULE));
        }
    }
    // Backstage's schema asks for a non-empty string: a title of only whitespace passes
    // (and the legacy module emits one for a display name of only whitespace).
    if doc.title.is_empty() {
        return Err("metadata.title must not be empty".to_string());
    }
    for (i, tag) in doc.tags.iter().enumerate() {
        if !is_valid_tag(tag) {
            return Err(invalid(&format!("metadata.tags[{i}]"), tag, TAG_RULE));
        }
    }
    string_lists(doc)?;
    match doc.kind {
        "Component" => {
            for key in ["type", "lifecycle", "owner"] {
                required(doc, key)?;
            }
            optional_non_empty(doc, "system")?;
        }
        "API" => {
            for key in ["type", "lifecycle", "owner", "definition"] {
                required(doc, key)?;
            }
            optional_non_empty(doc, "system")?;
        }
        "System" => {
            required(doc, "owner")?;
            optional_non_empty(doc, "domain")?;
        }
        "Domain" => {
            required(doc, "owner")?;
        }
        _ => {}
    }
    Ok(())
}

/// The envelope checks of [`validate_doc`] for an entity built as a JSON value: name,
/// namespace, non-blank title, tags, annotation and label keys, label values.
pub fn validate_value(v: &serde_json::Value) -> Result<(), String> {
    let meta = &v["metadata"];
    let name = meta["name"].as_str().unwrap_or_default();
    if !is_valid_entity_name(name) {
        return Err(invalid("metadata.name", name, NAME_RULE));
    }
    if let Some(ns) = meta.get("namespace").and_then(serde_json::Value::as_str) {
        if !is_valid_namespace(ns) {
            return Err(invalid("metadata.namespace", ns, NAMESPACE_RULE));
        }
    }
    if let Some(title) = meta.get("title") {
        if title.as_str().is_none_or(str::is_empty) {
            return Err(format!("metadata.title {title} must be a non-empty string"));
        }
    }
    for (i, tag) in meta["tags"].as_array().into_iter().flatten().enumerate() {
        let tag = tag.as_str().unwrap_or_default();
        if !is_valid_tag(tag) {
            return Err(invalid(&format!("metadata.tags[{i}]"), tag, TAG_RULE));
        }
    }
    for (field, check_values) in [("annotations", false), ("labels", true)] {
        for (key, value) in meta[field].as_object().into_iter().flatten() {
            if !is_valid_key(key) {
                return Err(format!("metadata.{field} key {key:?} is not a valid Backstage key"));
            }
            let Some(value) = value.as_str() else {
                return Err(format!("metadata.{field}.{key} must be a string"));
            };
            if check_values && !is_valid_label_value(value) {
                return Err(format!("metadata.labels.{key} {value:?} is not a valid Backstage label value"));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for ok in ["a", "A9", "my-service", "my_service.v2", "x-y_z.w", &"a".repeat(63)] {
            assert!(is_valid_entity_name(ok), "{ok}");
        }
        for bad in ["", "-a", "a-", "a--b", "a_.b", "a b", "a/b", "é", &"a".repeat(64)] {
            assert!(!is_valid_entity_name(bad), "{bad}");
        }
    }

    #[test]
    fn namespaces() {
        for ok in ["default", "acme-prod", "n1"] {
            assert!(is_valid_namespace(ok), "{ok}");
        }
        for bad in ["", "Acme", "a_b", "a.b", "a--b", "-a", &"a".repeat(64)] {
            assert!(!is_valid_namespace(bad), "{bad}");
        }
    }

    #[test]
    fn tags() {
        for ok in ["openchoreo", "deployment-go-service", "c++", "c#", "k8s:v1"] {
            assert!(is_valid_tag(ok), "{ok}");
        }
        for bad in ["", "Go", "a_b", "a.b", "a--b", "-a", "a b", &"a".repeat(64)] {
            assert!(!is_valid_tag(bad), "{bad}");
        }
    }

    #[test]
    fn keys_and_label_values() {
        for ok in ["openchoreo.io/managed", "backstage.io/managed-by-location", "plain", "a.b-c.d/E_f.g"] {
            assert!(is_valid_key(ok), "{ok}");
        }
        for bad in ["", "/x", "x/", "a/b/c", "Openchoreo.io/x", "openchoreo..io/x", "openchoreo.io/-x", "a b/c"] {
            assert!(!is_valid_key(bad), "{bad}");
        }
        assert!(is_valid_label_value(""));
        assert!(is_valid_label_value("true"));
        assert!(!is_valid_label_value("not ok"));
    }

    #[test]
    fn every_annotation_key_and_the_label_are_valid() {
        for key in super::super::common::ann::ALL.iter().chain([&super::super::common::MANAGED_LABEL]) {
            assert!(is_valid_key(key), "{key}");
        }
        assert!(is_valid_label_value("true"));
    }

    fn entity() -> Doc<'static> {
        Doc {
            kind: "Component",
            name: "svc".into(),
            namespace: Some("acme"),
            title: "svc".into(),
            description: None,
            tags: vec!["openchoreo".into()],
            annotations: Default::default(),
            spec: vec![
                ("type", "deployment/x".into()),
                ("lifecycle", "ready".into()),
                ("owner", "group:default/t".into()),
                ("system", "p".into()),
            ],
        }
    }

    #[test]
    fn whole_entity() {
        validate_doc(&entity()).unwrap();

        let mut e = entity();
        e.name = "bad name".into();
        let err = validate_doc(&e).unwrap_err();
        assert!(err.contains("metadata.name") && err.contains("\"bad name\""), "{err}");

        let mut e = entity();
        e.namespace = Some("Acme");
        assert!(validate_doc(&e).unwrap_err().contains("metadata.namespace \"Acme\""));

        let mut e = entity();
        e.tags = vec!["openchoreo".into(), "Bad_Tag".into()];
        assert!(validate_doc(&e).unwrap_err().contains("metadata.tags[1] \"Bad_Tag\""));

        let mut e = entity();
        e.title = "".into();
        assert!(validate_doc(&e).unwrap_err().contains("metadata.title"));
        // Backstage accepts a title of only whitespace; so does the legacy module.
        e.title = " ".into();
        assert_eq!(validate_doc(&e), Ok(()));

        let mut e = entity();
        e.spec[2].1 = "".into();
        assert!(validate_doc(&e).unwrap_err().contains("spec.owner"));

        let mut e = entity();
        e.spec.retain(|(k, _)| *k != "owner");
        assert!(validate_doc(&e).unwrap_err().contains("spec.owner is required"));

        let mut e = entity();
        e.spec.push(("consumesApis", Field::List(vec!["ok".into(), "".into()])));
        assert!(validate_doc(&e).unwrap_err().contains("spec.consumesApis[1]"));

        let mut e = entity();
        e.kind = "API";
        assert!(validate_doc(&e).unwrap_err().contains("spec.definition is required"));
    }
}
