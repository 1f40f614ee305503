//! JavaScript semantics over JSON values, as the legacy TypeScript (its entity translation
//! and its template converters) evaluates them: an
//! absent field is `None` (`undefined`, which vanishes from the entity), a JSON `null` is
//! `Some(Null)` (which survives). Property reads are `?.` reads: on anything but an object
//! they give `undefined` (no field the translators read exists on strings, numbers or
//! arrays in JavaScript either).

use serde_json::{Map, Number, Value};

/// `v?.[key]`.
pub fn get<'a>(v: Option<&'a Value>, key: &str) -> Option<&'a Value> {
    match v {
        Some(Value::Object(m)) => m.get(key),
        _ => None,
    }
}

/// `Boolean(v)`: `undefined`, `null`, `false`, `0`, `""` are false; objects and arrays,
/// even empty, are true.
pub fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f != 0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(_) | Value::Object(_)) => true,
    }
}

/// `v || fallback`.
pub fn or(v: Option<&Value>, fallback: &str) -> Value {
    if truthy(v) {
        v.cloned().unwrap_or_default()
    } else {
        Value::from(fallback)
    }
}

/// `v ?? fallback`.
pub fn nullish_or(v: Option<&Value>, fallback: &str) -> Value {
    match v {
        None | Some(Value::Null) => Value::from(fallback),
        Some(v) => v.clone(),
    }
}

/// The left side of `v ?? ...`: `v` unless undefined or null.
pub fn non_nullish(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

/// `v` when truthy, else `None` (the `x ? x : undefined` and `x && {...}` guards).
pub fn when_truthy(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| truthy(Some(v)))
}

/// `String(v)` / `v.toString()` of a non-null value (callers handle `null`, on which
/// `toString` throws).
pub fn to_string(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => number_to_string(n),
        Value::String(s) => s.clone(),
        // Array.prototype.join: null elements become "".
        Value::Array(items) => items
            .iter()
            .map(|i| if i.is_null() { String::new() } else { to_string(i) })
            .collect::<Vec<_>>()
            .join(","),
        Value::Object(_) => "[object Object]".into(),
    }
}

/// `Number.prototype.toString()`: integers without a fraction, exponents below 1e-6 and
/// from 1e21 (`1e+21`), otherwise the shortest decimal that reads back the same (which
/// Rust's `Display` for `f64` also prints).
fn number_to_string(n: &Number) -> String {
    const SAFE: u64 = 1 << 53;
    if let Some(i) = n.as_i64().filter(|i| i.unsigned_abs() <= SAFE) {
        return i.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    if f == 0.0 {
        return "0".into();
    }
    if (1e-6..1e21).contains(&f.abs()) {
        return f.to_string();
    }
    let e = format!("{f:e}");
    match e.split_once('e') {
        Some((mantissa, exp)) if !exp.starts_with('-') => format!("{mantissa}e+{exp}"),
        _ => e,
    }
}

/// `Object.entries(v)` in JavaScript's order: integer-like keys first in ascending order,
/// then the others as the map holds them. serde_json keeps keys sorted, and the OpenChoreo
/// API writes them sorted too (Go's encoding/json sorts map keys), so the sorted order is
/// the order JavaScript read them in. A string's entries are its characters, which no
/// caller descends into: they are left out.
pub fn entries(v: &Value) -> Vec<(String, &Value)> {
    match v {
        Value::Object(m) => {
            let (mut ints, rest): (Vec<_>, Vec<_>) = m.iter().partition(|(k, _)| array_index(k).is_some());
            ints.sort_by_key(|(k, _)| array_index(k));
            ints.into_iter().chain(rest).map(|(k, v)| (k.clone(), v)).collect()
        }
        Value::Array(items) => items.iter().enumerate().map(|(i, v)| (i.to_string(), v)).collect(),
        _ => Vec::new(),
    }
}

/// A key JavaScript orders as an array index: canonical decimal below 2^32 - 1.
fn array_index(k: &str) -> Option<u32> {
    let canonical = k == "0" || (!k.starts_with('0') && !k.is_empty() && k.bytes().all(|b| b.is_ascii_digit()));
    k.parse::<u32>().ok().filter(|&i| canonical && i != u32::MAX)
}

/// An object being built: `put` drops `undefined`, as `JSON.stringify` does.
#[derive(Debug, Default)]
pub struct Obj(pub Map<String, Value>);

impl Obj {
    pub fn put(&mut self, key: &str, v: Option<&Value>) -> &mut Self {
        if let Some(v) = v {
            self.0.insert(key.to_string(), v.clone());
        }
        self
    }

    pub fn set(&mut self, key: &str, v: impl Into<Value>) -> &mut Self {
        self.0.insert(key.to_string(), v.into());
        self
    }

    /// `...(v && {key: v})`.
    pub fn put_truthy(&mut self, key: &str, v: Option<&Value>) -> &mut Self {
        self.put(key, when_truthy(v))
    }

    pub fn into_value(self) -> Value {
        Value::Object(self.0)
    }
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
    fn truthiness_follows_javascript() {
        for falsy in [json!(null), json!(false), json!(0), json!(0.0), json!("")] {
            assert!(!truthy(Some(&falsy)), "{falsy}");
        }
        assert!(!truthy(None));
        for t in [json!(true), json!(1), json!(-0.5), json!("0"), json!("false"), json!([]), json!({})] {
            assert!(truthy(Some(&t)), "{t}");
        }
    }

    #[test]
    fn or_and_nullish_or_differ_on_empty_strings_and_zero() {
        assert_eq!(or(Some(&json!("")), "d"), json!("d"));
        assert_eq!(nullish_or(Some(&json!("")), "d"), json!(""));
        assert_eq!(nullish_or(Some(&json!(null)), "d"), json!("d"));
        assert_eq!(nullish_or(Some(&json!(0)), "d"), json!(0));
        assert_eq!(or(Some(&json!(0)), "d"), json!("d"));
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

    #[test]
    fn strings_of_values() {
        let cases = [
            (json!(true), "true"),
            (json!(false), "false"),
            (json!(3), "3"),
            (json!(3.0), "3"),
            (json!(-2.5), "-2.5"),
            (json!(0.1), "0.1"),
            (json!(1e21), "1e+21"),
            (json!(1.5e-7), "1.5e-7"),
            (json!(123456789012.0), "123456789012"),
            (json!(9007199254740993u64), "9007199254740992"),
            (json!([1, null, "a", [2, 3]]), "1,,a,2,3"),
            (json!({"a": 1}), "[object Object]"),
        ];
        for (v, s) in cases {
            assert_eq!(to_string(&v), s, "{v}");
        }
    }

    #[test]
    fn entries_put_integer_keys_first() {
        let v = json!({"b": 1, "10": 2, "a": 3, "2": 4, "01": 5, "-1": 6});
        let keys: Vec<String> = entries(&v).into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["2", "10", "-1", "01", "a", "b"]);
        assert!(entries(&json!("abc")).is_empty());
        assert_eq!(entries(&json!([7])).len(), 1);
    }
}
