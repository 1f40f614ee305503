//! Pieces every translated entity shares: [`Doc`], the typed shape of the entities this
//! module makes, and its JSON writer.
//!
//! Entities are written straight to JSON text (keys in sorted order, as
//! `serde_json::Value` would print them) instead of being built as `Value` trees: at
//! 200,000 entities a cycle, the trees' allocations cost more than everything else the
//! translation does.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::validate::validate_doc;
use super::TranslateContext;

pub const API_VERSION: &str = "backstage.io/v1alpha1";
pub const MANAGED_BY_LOCATION: &str = "backstage.io/managed-by-location";
pub const MANAGED_BY_ORIGIN_LOCATION: &str = "backstage.io/managed-by-origin-location";
pub const MANAGED_LABEL: &str = "openchoreo.io/managed";

/// The `openchoreo.io/*` annotation keys (`CHOREO_ANNOTATIONS` of the legacy plugins).
pub mod ann {
    pub const NAMESPACE: &str = "openchoreo.io/namespace";
    pub const CREATED_AT: &str = "openchoreo.io/created-at";
    pub const STATUS: &str = "openchoreo.io/status";
    pub const DELETION_TIMESTAMP: &str = "openchoreo.io/deletion-timestamp";
    pub const PROJECT: &str = "openchoreo.io/project";
    pub const PROJECT_ID: &str = "openchoreo.io/project-id";
    pub const PROJECT_UID: &str = "openchoreo.io/project-uid";
    pub const PROJECT_TYPE: &str = "openchoreo.io/project-type";
    pub const PROJECT_TYPE_KIND: &str = "openchoreo.io/project-type-kind";
    pub const COMPONENT: &str = "openchoreo.io/component";
    pub const COMPONENT_UID: &str = "openchoreo.io/component-uid";
    pub const COMPONENT_TYPE: &str = "openchoreo.io/component-type";
    pub const COMPONENT_TYPE_KIND: &str = "openchoreo.io/component-type-kind";
    pub const WORKLOAD: &str = "openchoreo.io/workload";
    pub const BRANCH: &str = "openchoreo.io/branch";
    pub const SOURCE_LOCATION: &str = "backstage.io/source-location";
    pub const ENDPOINT_NAME: &str = "openchoreo.io/endpoint-name";
    pub const ENDPOINT_TYPE: &str = "openchoreo.io/endpoint-type";
    pub const ENDPOINT_PORT: &str = "openchoreo.io/endpoint-port";
    pub const ENDPOINT_VISIBILITY: &str = "openchoreo.io/endpoint-visibility";

    /// Every key above (a test checks that each is a valid Backstage annotation key, so
    /// the translation need not check them per entity).
    #[cfg_attr(not(test), allow(dead_code))]
    pub const ALL: &[&str] = &[
        NAMESPACE, CREATED_AT, STATUS, DELETION_TIMESTAMP, PROJECT, PROJECT_ID, PROJECT_UID, PROJECT_TYPE,
        PROJECT_TYPE_KIND, COMPONENT, COMPONENT_UID, COMPONENT_TYPE, COMPONENT_TYPE_KIND, WORKLOAD, BRANCH,
        SOURCE_LOCATION, ENDPOINT_NAME, ENDPOINT_TYPE, ENDPOINT_PORT, ENDPOINT_VISIBILITY,
        super::MANAGED_BY_LOCATION, super::MANAGED_BY_ORIGIN_LOCATION,
    ];
}

/// Annotations, kept sorted so the output never depends on insertion order. Keys are
/// this module's constants.
#[derive(Debug, Default)]
pub struct Annotations<'a>(pub BTreeMap<&'static str, Cow<'a, str>>);

impl<'a> Annotations<'a> {
    /// Starts with the two managed-by-location annotations every entity carries.
    pub fn managed(ctx: &'a TranslateContext) -> Self {
        let mut a = Self::default();
        a.set(MANAGED_BY_LOCATION, ctx.location_key.as_str());
        a.set(MANAGED_BY_ORIGIN_LOCATION, ctx.location_key.as_str());
        a
    }

    pub fn set(&mut self, key: &'static str, value: impl Into<Cow<'a, str>>) -> &mut Self {
        self.0.insert(key, value.into());
        self
    }

    /// Sets `key` only when `value` is present (the legacy `...(x && {key: x})`).
    pub fn set_opt(&mut self, key: &'static str, value: Option<&'a str>) -> &mut Self {
        if let Some(v) = value {
            self.set(key, v);
        }
        self
    }
}

/// A `spec` field's value.
#[derive(Debug)]
pub enum Field<'a> {
    Str(Cow<'a, str>),
    List(Vec<Cow<'a, str>>),
    /// Written as `null`: the API owner's place while its component is not yet known.
    Null,
}

impl<'a> From<&'a str> for Field<'a> {
    fn from(s: &'a str) -> Self {
        Field::Str(Cow::Borrowed(s))
    }
}

impl From<String> for Field<'_> {
    fn from(s: String) -> Self {
        Field::Str(Cow::Owned(s))
    }
}

/// A Backstage entity as this module makes them: `metadata.labels` is always
/// `{"openchoreo.io/managed": "true"}`.
#[derive(Debug)]
pub struct Doc<'a> {
    pub kind: &'static str,
    pub name: Cow<'a, str>,
    /// `None`: left out (Backstage reads `default`).
    pub namespace: Option<&'a str>,
    pub title: Cow<'a, str>,
    pub description: Option<Cow<'a, str>>,
    pub tags: Vec<Cow<'a, str>>,
    pub annotations: Annotations<'a>,
    /// In any order; written sorted by key.
    pub spec: Vec<(&'static str, Field<'a>)>,
}

impl Doc<'_> {
    /// `kind:namespace/name`, lower-cased as Backstage compares refs.
    pub fn entity_ref(&self) -> String {
        format!("{}:{}/{}", self.kind, self.namespace.unwrap_or("default"), self.name).to_lowercase()
    }

    pub fn spec_str(&self, key: &str) -> Option<&str> {
        self.spec.iter().find(|(k, _)| *k == key).and_then(|(_, v)| match v {
            Field::Str(s) => Some(s.as_ref()),
            _ => None,
        })
    }

    /// The compact JSON text of the entity, keys sorted at every level.
    pub fn to_json(&self) -> String {
        let mut w = Vec::with_capacity(1024);
        w.extend_from_slice(b"{\"apiVersion\":");
        json_str(&mut w, API_VERSION);
        w.extend_from_slice(b",\"kind\":");
        json_str(&mut w, self.kind);
        w.extend_from_slice(b",\"metadata\":{\"annotations\":{");
        for (i, (k, v)) in self.annotations.0.iter().enumerate() {
            if i > 0 {
                w.push(b',');
            }
            json_str(&mut w, k);
            w.push(b':');
            json_str(&mut w, v);
        }
        w.push(b'}');
        if let Some(d) = &self.description {
            w.extend_from_slice(b",\"description\":");
            json_str(&mut w, d);
        }
        w.extend_from_slice(b",\"labels\":{\"");
        w.extend_from_slice(MANAGED_LABEL.as_bytes());
        w.extend_from_slice(b"\":\"true\"},\"name\":");
        json_str(&mut w, &self.name);
        if let Some(ns) = self.namespace {
            w.extend_from_slice(b",\"namespace\":");
            json_str(&mut w, ns);
        }
        w.extend_from_slice(b",\"tags\":");
        json_list(&mut w, &self.tags);
        w.extend_from_slice(b",\"title\":");
        json_str(&mut w, &self.title);
        w.extend_from_slice(b"},\"spec\":{");
        let mut spec: Vec<&(&str, Field)> = self.spec.iter().collect();
        spec.sort_by_key(|(k, _)| *k);
        for (i, (k, v)) in spec.into_iter().enumerate() {
            if i > 0 {
                w.push(b',');
            }
            json_str(&mut w, k);
            w.push(b':');
            match v {
                Field::Str(s) => json_str(&mut w, s),
                Field::List(items) => json_list(&mut w, items),
                Field::Null => w.extend_from_slice(b"null"),
            }
        }
        w.extend_from_slice(b"}}");
        String::from_utf8(w).expect("JSON written from UTF-8 strings is UTF-8")
    }
}

/// Appends `s` as a JSON string, byte for byte as serde_json writes it. Most strings
/// need no escaping: those are copied whole after a scan the compiler vectorizes; the
/// rest go through serde_json's escaper, which looks every byte up one at a time (7 % of
/// a cycle's instructions when every string went through it).
pub fn json_str(w: &mut Vec<u8>, s: &str) {
    if needs_escape(s.as_bytes()) {
        serde_json::to_writer(w, s).expect("writing to a Vec cannot fail");
    } else {
        w.reserve(s.len() + 2);
        w.push(b'"');
        w.extend_from_slice(s.as_bytes());
        w.push(b'"');
    }
}

/// Whether a JSON string must escape any of these bytes: a quote, a backslash or a
/// control character (what serde_json escapes). Checked 16 bytes a step without an
/// early exit inside a step, so the step is vectorized.
fn needs_escape(bytes: &[u8]) -> bool {
    let escaped = |b: u8| b < 0x20 || b == b'"' || b == b'\\';
    let mut chunks = bytes.chunks_exact(16);
    for chunk in &mut chunks {
        if chunk.iter().fold(false, |any, &b| any | escaped(b)) {
            return true;
        }
    }
    chunks.remainder().iter().any(|&b| escaped(b))
}

fn json_list<S: AsRef<str>>(w: &mut Vec<u8>, items: &[S]) {
    w.push(b'[');
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            w.push(b',');
        }
        json_str(w, s.as_ref());
    }
    w.push(b']');
}

/// The first of the candidates that is present and not blank (trimmed), else the
/// configured default owner.
pub fn resolve_owner<'a>(candidates: impl IntoIterator<Item = Option<&'a str>>, ctx: &'a TranslateContext) -> &'a str {
    candidates.into_iter().flatten().map(str::trim).find(|s| !s.is_empty()).unwrap_or(&ctx.default_owner)
}

/// Validates a finished entity; the error names the entity and the field.
pub fn checked(doc: &Doc, what: &str) -> Result<(), String> {
    validate_doc(doc).map_err(|e| format!("cannot translate {what}: {e}"))
}

/// A list of borrowed strings.
pub fn strs<'a, S: AsRef<str>>(items: &'a [S]) -> Vec<Cow<'a, str>> {
    items.iter().map(|s| Cow::Borrowed(s.as_ref())).collect()
}
