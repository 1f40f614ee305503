//! The checks the Backstage catalog applies to an entity's envelope (the
//! `FieldFormatEntityPolicy` rules of `@backstage/catalog-model` and the required spec
//! fields of the built-in kinds), written by hand. Every translated entity passes
//! [`validate_entity`] or is reported as an error instead of being emitted: an entity
//! the catalog would reject is better refused here, with a message naming the field.

use serde_json::{Map, Value};

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
const KEY_RULE: &str =
    "an optional DNS-subdomain prefix and '/', then 1-63 characters: letters and digits, separated by single '-', '_' or '.'";

fn invalid(field: &str, value: &str, rule: &str) -> String {
    format!("{field} {value:?} is not valid for Backstage (must be {rule})")
}

fn string_at<'a>(obj: &'a Map<String, Value>, key: &str, path: &str) -> Result<Option<&'a str>, String> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(other) => Err(format!("{path}.{key} must be a string, got {other}")),
    }
}

fn required_string<'a>(obj: &'a Map<String, Value>, key: &str, path: &str) -> Result<&'a str, String> {
    match string_at(obj, key, path)? {
        Some(s) if !s.trim().is_empty() => Ok(s),
        Some(s) => Err(format!("{path}.{key} {s:?} must not be empty")),
        None => Err(format!("{path}.{key} is required")),
    }
}

fn optional_non_empty(obj: &Map<String, Value>, key: &str, path: &str) -> Result<(), String> {
    match string_at(obj, key, path)? {
        Some(s) if s.trim().is_empty() => Err(format!("{path}.{key} {s:?} must not be empty")),
        _ => Ok(()),
    }
}

fn string_list(obj: &Map<String, Value>, key: &str, path: &str) -> Result<(), String> {
    match obj.get(key) {
        None => Ok(()),
        Some(Value::Array(items)) => {
            for (i, item) in items.iter().enumerate() {
                match item {
                    Value::String(s) if !s.trim().is_empty() => {}
                    other => return Err(format!("{path}.{key}[{i}] {other} must be a non-empty string")),
                }
            }
            Ok(())
        }
        Some(other) => Err(format!("{path}.{key} must be an array, got {other}")),
    }
}

/// Checks an entity the way the catalog would; `Err` names the offending field and value.
pub fn validate_entity(entity: &Value) -> Result<(), String> {
    let root = entity.as_object().ok_or("entity must be a JSON object")?;
    required_string(root, "apiVersion", "entity")?;
    let kind = required_string(root, "kind", "entity")?;
    let meta = root.get("metadata").and_then(Value::as_object).ok_or("metadata must be an object")?;

    let name = required_string(meta, "name", "metadata")?;
    if !is_valid_entity_name(name) {
        return Err(invalid("metadata.name", name, NAME_RULE));
    }
    if let Some(ns) = string_at(meta, "namespace", "metadata")? {
        if !is_valid_namespace(ns) {
            return Err(invalid("metadata.namespace", ns, NAMESPACE_RULE));
        }
    }
    optional_non_empty(meta, "title", "metadata")?;
    string_at(meta, "description", "metadata")?;

    if let Some(tags) = meta.get("tags") {
        let tags = tags.as_array().ok_or("metadata.tags must be an array")?;
        for (i, tag) in tags.iter().enumerate() {
            let tag = tag.as_str().ok_or_else(|| format!("metadata.tags[{i}] must be a string"))?;
            if !is_valid_tag(tag) {
                return Err(invalid(&format!("metadata.tags[{i}]"), tag, TAG_RULE));
            }
        }
    }
    for (field, check_value) in [("annotations", false), ("labels", true)] {
        let Some(map) = meta.get(field) else { continue };
        let map = map.as_object().ok_or_else(|| format!("metadata.{field} must be an object"))?;
        for (key, value) in map {
            if !is_valid_key(key) {
                return Err(invalid(&format!("metadata.{field} key"), key, KEY_RULE));
            }
            let value = value.as_str().ok_or_else(|| format!("metadata.{field}[{key:?}] must be a string"))?;
            if check_value && !is_valid_label_value(value) {
                return Err(invalid(&format!("metadata.labels[{key:?}]"), value, &format!("empty or {NAME_RULE}")));
            }
        }
    }

    let spec = root.get("spec").and_then(Value::as_object);
    let empty = Map::new();
    let spec = spec.unwrap_or(&empty);
    match kind {
        "Component" => {
            for key in ["type", "lifecycle", "owner"] {
                required_string(spec, key, "spec")?;
            }
            optional_non_empty(spec, "system", "spec")?;
            for key in ["providesApis", "consumesApis", "dependsOn"] {
                string_list(spec, key, "spec")?;
            }
        }
        "API" => {
            for key in ["type", "lifecycle", "owner", "definition"] {
                required_string(spec, key, "spec")?;
            }
            optional_non_empty(spec, "system", "spec")?;
        }
        "System" => {
            required_string(spec, "owner", "spec")?;
            optional_non_empty(spec, "domain", "spec")?;
        }
        "Domain" => {
            required_string(spec, "owner", "spec")?;
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    fn entity() -> Value {
        json!({
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "svc", "namespace": "acme", "tags": ["openchoreo"],
                         "annotations": {"openchoreo.io/x": "anything goes here"},
                         "labels": {"openchoreo.io/managed": "true"}},
            "spec": {"type": "deployment/x", "lifecycle": "ready", "owner": "group:default/t", "system": "p"}
        })
    }

    #[test]
    fn whole_entity() {
        validate_entity(&entity()).unwrap();

        let mut e = entity();
        e["metadata"]["name"] = json!("bad name");
        let err = validate_entity(&e).unwrap_err();
        assert!(err.contains("metadata.name") && err.contains("\"bad name\""), "{err}");

        let mut e = entity();
        e["metadata"]["namespace"] = json!("Acme");
        assert!(validate_entity(&e).unwrap_err().contains("metadata.namespace \"Acme\""));

        let mut e = entity();
        e["metadata"]["tags"] = json!(["openchoreo", "Bad_Tag"]);
        assert!(validate_entity(&e).unwrap_err().contains("metadata.tags[1] \"Bad_Tag\""));

        let mut e = entity();
        e["metadata"]["labels"]["openchoreo.io/x"] = json!("has space");
        assert!(validate_entity(&e).unwrap_err().contains("\"has space\""));

        let mut e = entity();
        e["metadata"]["annotations"]["bad key!"] = json!("v");
        assert!(validate_entity(&e).unwrap_err().contains("\"bad key!\""));

        let mut e = entity();
        e["spec"]["owner"] = json!("");
        assert!(validate_entity(&e).unwrap_err().contains("spec.owner"));

        let mut e = entity();
        e["spec"]["consumesApis"] = json!(["ok", ""]);
        assert!(validate_entity(&e).unwrap_err().contains("spec.consumesApis[1]"));
    }
}
