//! The JavaScript semantics the legacy converters rely on, for JSON values.

use serde_json::Value;

/// JavaScript truthiness: `null`, `false`, `0`, `NaN` and `""` are falsy.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// `a ?? b` on an optional JSON field: the field unless missing or null.
pub fn or_default(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

/// The converters' `formatTitle`: split on `-`, upper-case each word's first UTF-16
/// unit (`charAt(0).toUpperCase()`: a character outside the BMP is two units and stays
/// as it is), join with spaces. `web-service` -> `Web Service`.
pub fn format_title(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) if first.len_utf16() == 1 => first.to_uppercase().chain(chars).collect::<String>(),
                _ => word.to_string(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn truthiness_is_javascripts() {
        for falsy in [json!(null), json!(false), json!(0), json!(0.0), json!("")] {
            assert!(!truthy(&falsy), "{falsy}");
        }
        for t in [json!(true), json!(1), json!(-0.5), json!("0"), json!([]), json!({})] {
            assert!(truthy(&t), "{t}");
        }
    }

    #[test]
    fn titles_capitalise_each_dash_separated_word() {
        assert_eq!(format_title("web-service"), "Web Service");
        assert_eq!(format_title("my-custom-svc"), "My Custom Svc");
        assert_eq!(format_title("go"), "Go");
        assert_eq!(format_title("a--b-"), "A  B ");
        assert_eq!(format_title("ßx"), "SSx", "toUpperCase expands ß");
        assert_eq!(format_title("𐐨x"), "𐐨x", "charAt(0) is half of a surrogate pair: unchanged");
    }
}
