//! The current installation: the synthetic generator plus edits kept in sorted maps.
//!
//! A list is the merge, by name, of the synthetic sequence (computed from indices) and
//! the stored overrides (a `BTreeMap` range). An override shadows the synthetic item of
//! the same name: `Some(item)` replaces it, `None` deletes it. A page therefore costs
//! O(log N + page + edits skipped), whatever the size of the namespace.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::{Bound, Range};
use std::sync::Arc;

use serde_json::{json, Value};

use crate::kind::Kind;
use crate::labels::Selector;
use crate::summary::{Counts, Summary};
use crate::synthetic::{default_namespace_item, InstallationSpec, Synth, API_VERSION};

/// Why an edit or lookup was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MockError {
    NamespaceNotFound(String),
    /// The item is not a JSON object with a non-empty `metadata.name`.
    InvalidItem(String),
    InvalidSpec(String),
}

impl fmt::Display for MockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MockError::NamespaceNotFound(ns) => write!(f, "namespace not found: {ns}"),
            MockError::InvalidItem(why) => write!(f, "invalid item: {why}"),
            MockError::InvalidSpec(why) => write!(f, "invalid installation spec: {why}"),
        }
    }
}

impl std::error::Error for MockError {}

type Overrides = BTreeMap<String, Option<Arc<Value>>>;

struct Namespace {
    /// Index in the synthetic spec whose content this namespace serves, if any.
    synthetic: Option<usize>,
    /// Replacement namespace item; `None` serves the generated one.
    item: Option<Arc<Value>>,
    /// Overrides per kind, indexed like `Kind::ALL` (only the kinds of its scope are used).
    overrides: Vec<Overrides>,
}

impl Namespace {
    fn new(synthetic: Option<usize>) -> Namespace {
        Namespace {
            synthetic,
            item: None,
            overrides: vec![Overrides::new(); Kind::COUNT],
        }
    }

    fn overrides(&self, kind: Kind) -> &Overrides {
        &self.overrides[kind as usize]
    }
}

/// Narrows a list the way the real server's query parameters do.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Filter<'a> {
    All,
    /// Components and resources whose `spec.owner.projectName` matches.
    Project(&'a str),
    /// Workloads whose `spec.owner.componentName` matches.
    Component(&'a str),
}

pub(crate) struct PageQuery<'a> {
    /// Resume strictly after this name.
    pub after: Option<&'a str>,
    pub limit: usize,
    pub filter: Filter<'a>,
    /// `labelSelector`: only items whose labels match.
    pub labels: Option<&'a Selector>,
    /// Items to leave out (the `dropShare` fault).
    pub hidden: &'a dyn Fn(&str) -> bool,
}

pub(crate) struct Page {
    pub items: Vec<Value>,
    /// Name of the page's last item (the next cursor's key).
    pub last: Option<String>,
    /// Whether visible items follow this page.
    pub more: bool,
    pub scanned: u64,
}

enum Source {
    Synthetic(usize),
    /// A synthetic item already rendered to check it against a filter.
    Rendered(Value),
    Stored(Arc<Value>),
}

pub(crate) struct Store {
    synth: Synth,
    namespaces: BTreeMap<String, Namespace>,
    /// The cluster-scoped kinds' items (synthetic when the installation has namespaces).
    cluster: Namespace,
    unserved: BTreeSet<Kind>,
}

impl Store {
    pub fn new(spec: InstallationSpec) -> Store {
        let synth = Synth::new(spec);
        let namespaces = (0..synth.spec.namespaces)
            .map(|i| (synth.namespace_name(i), Namespace::new(Some(i))))
            .collect();
        let cluster = Namespace::new((synth.spec.namespaces > 0).then_some(0));
        let unserved = synth.spec.unserved_kinds.clone();
        Store {
            synth,
            namespaces,
            cluster,
            unserved,
        }
    }

    pub fn is_served(&self, kind: Kind) -> bool {
        !self.unserved.contains(&kind)
    }

    /// Serves (true) or hides (false, 404 everywhere) a kind; its items are kept.
    pub fn set_served(&mut self, kind: Kind, served: bool) {
        if served {
            self.unserved.remove(&kind);
        } else {
            self.unserved.insert(kind);
        }
    }

    pub fn unserved(&self) -> &BTreeSet<Kind> {
        &self.unserved
    }

    /// Where a kind's items live: the namespace, or the cluster scope (`ns` ignored).
    fn scope(&self, kind: Kind, ns: &str) -> Result<&Namespace, MockError> {
        if kind.is_cluster() {
            return Ok(&self.cluster);
        }
        self.namespaces
            .get(ns)
            .ok_or_else(|| MockError::NamespaceNotFound(ns.into()))
    }

    fn scope_mut(&mut self, kind: Kind, ns: &str) -> Result<&mut Namespace, MockError> {
        if kind.is_cluster() {
            return Ok(&mut self.cluster);
        }
        self.namespaces
            .get_mut(ns)
            .ok_or_else(|| MockError::NamespaceNotFound(ns.into()))
    }

    pub fn spec(&self) -> &InstallationSpec {
        &self.synth.spec
    }

    pub fn template_url_base(&self) -> &str {
        &self.synth.template_url_base
    }

    /// Rebases the custom-template URLs of the synthetic (cluster) component types.
    pub fn set_template_url_base(&mut self, base: String) {
        self.synth.template_url_base = base;
    }

    pub fn namespace_names(&self) -> Vec<String> {
        self.namespaces.keys().cloned().collect()
    }

    fn namespace_item(&self, ns: &Namespace) -> Value {
        match (&ns.item, ns.synthetic) {
            (Some(item), _) => (**item).clone(),
            (None, Some(i)) => self.synth.namespace_item(i),
            (None, None) => unreachable!("non-synthetic namespaces always store their item"),
        }
    }

    pub fn get_namespace(&self, name: &str) -> Option<Value> {
        self.namespaces.get(name).map(|ns| self.namespace_item(ns))
    }

    // ---- lists ----

    pub fn list_namespaces(&self, q: &PageQuery) -> Page {
        let lower = q.after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut scanned = 0;
        let mut picked: Vec<(String, Value)> = Vec::new();
        for (name, ns) in self.namespaces.range::<str, _>((lower, Bound::Unbounded)) {
            scanned += 1;
            if (q.hidden)(name) {
                continue;
            }
            let item = self.namespace_item(ns);
            if q.labels.is_some_and(|sel| !sel.matches(&item)) {
                continue;
            }
            if picked.len() == q.limit {
                return page(picked, true, scanned, |(_, v)| v.clone());
            }
            picked.push((name.clone(), item));
        }
        page(picked, false, scanned, |(_, v)| v.clone())
    }

    /// One page of a list; `None` when the namespace (of a namespaced kind) doesn't exist.
    pub fn list(&self, kind: Kind, ns_name: &str, q: &PageQuery) -> Option<Page> {
        let ns = self.scope(kind, ns_name).ok()?;
        let overrides = ns.overrides(kind);
        let (syn_range, exact) = self.synthetic_range(kind, ns, q.filter);
        // Synthetic items must be rendered to be checked unless the range already is the answer.
        let check_synthetic = !exact || q.labels.is_some();
        let keep = |item: &Value| {
            let owner = |field: &str| item.pointer(field).and_then(Value::as_str);
            let by_filter = match q.filter {
                Filter::All => true,
                Filter::Project(p) => owner("/spec/owner/projectName") == Some(p),
                Filter::Component(c) => owner("/spec/owner/componentName") == Some(c),
            };
            by_filter && q.labels.is_none_or(|sel| sel.matches(item))
        };
        let synthetic_index = ns.synthetic.unwrap_or(0);
        let synthetic_name = |i: usize| self.synth.name(kind, synthetic_index, i);

        let mut next_syn = match q.after {
            Some(after) if !syn_range.is_empty() => {
                self.synth
                    .first_after(kind, synthetic_index, after, syn_range.clone())
            }
            _ => syn_range.start,
        };
        let lower = q.after.map_or(Bound::Unbounded, Bound::Excluded);
        let mut stored = overrides
            .range::<str, _>((lower, Bound::Unbounded))
            .filter_map(|(k, v)| v.as_ref().filter(|v| keep(v)).map(|v| (k, v)))
            .peekable();

        let mut scanned = 0u64;
        let mut picked: Vec<(String, Source)> = Vec::new();
        let mut pending: Option<(String, Source)> = None;
        loop {
            // The next synthetic item that no override shadows (and that the filter keeps).
            while pending.is_none() && next_syn < syn_range.end {
                let name = synthetic_name(next_syn);
                scanned += 1;
                if !overrides.contains_key(&name) {
                    if check_synthetic {
                        let item = self.synth.item(kind, synthetic_index, next_syn);
                        if keep(&item) {
                            pending = Some((name, Source::Rendered(item)));
                        }
                    } else {
                        pending = Some((name, Source::Synthetic(next_syn)));
                    }
                }
                next_syn += 1;
            }
            let take_synthetic = match (&pending, stored.peek()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some((s, _)), Some((k, _))) => s.as_str() < k.as_str(),
            };
            let (name, source) = if take_synthetic {
                pending.take().expect("pending synthetic item")
            } else {
                scanned += 1;
                let (k, v) = stored.next().expect("pending stored item");
                (k.clone(), Source::Stored(v.clone()))
            };
            if (q.hidden)(&name) {
                continue;
            }
            if picked.len() == q.limit {
                return Some(page(picked, true, scanned, |(_, s)| {
                    self.render(kind, ns, s)
                }));
            }
            picked.push((name, source));
        }
        Some(page(picked, false, scanned, |(_, s)| {
            self.render(kind, ns, s)
        }))
    }

    /// The synthetic indices a filter can match, and whether every one of them matches:
    /// a whole project's block of components, one component's workload, or everything.
    fn synthetic_range(&self, kind: Kind, ns: &Namespace, filter: Filter) -> (Range<usize>, bool) {
        let Some(i) = ns.synthetic else {
            return (0..0, true);
        };
        let per = self.synth.spec.components_per_project;
        match (kind, filter) {
            (_, Filter::All) => (0..self.synth.len(kind), true),
            (Kind::Component, Filter::Project(p)) => {
                match self.synth.index_of(Kind::Project, i, p) {
                    Some(j) => (j * per..(j + 1) * per, true),
                    None => (0..0, true),
                }
            }
            (Kind::Workload, Filter::Component(c)) => {
                match self.synth.index_of(Kind::Component, i, c) {
                    Some(c) => (c..c + 1, true),
                    None => (0..0, true),
                }
            }
            _ => (0..self.synth.len(kind), false),
        }
    }

    fn render(&self, kind: Kind, ns: &Namespace, source: &Source) -> Value {
        match source {
            Source::Synthetic(idx) => {
                self.synth
                    .item(kind, ns.synthetic.expect("synthetic namespace"), *idx)
            }
            Source::Rendered(v) => v.clone(),
            Source::Stored(v) => (**v).clone(),
        }
    }

    /// All current names of a kind, in list order (O(N), for tests).
    pub fn names(&self, kind: Kind, ns: &str) -> Result<Vec<String>, MockError> {
        let ns_state = self.scope(kind, ns)?;
        let overrides = ns_state.overrides(kind);
        let mut names: Vec<String> = overrides
            .iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| k.clone())
            .collect();
        if let Some(i) = ns_state.synthetic {
            names.extend(
                (0..self.synth.len(kind))
                    .map(|c| self.synth.name(kind, i, c))
                    .filter(|n| !overrides.contains_key(n)),
            );
            names.sort_unstable();
        }
        Ok(names)
    }

    pub fn get(&self, kind: Kind, ns: &str, name: &str) -> Result<Option<Value>, MockError> {
        let ns_state = self.scope(kind, ns)?;
        if let Some(over) = ns_state.overrides(kind).get(name) {
            return Ok(over.as_ref().map(|v| (**v).clone()));
        }
        Ok(ns_state.synthetic.and_then(|i| {
            self.synth
                .index_of(kind, i, name)
                .map(|c| self.synth.item(kind, i, c))
        }))
    }

    // ---- edits ----

    /// Adds or replaces a namespace item. A new namespace starts empty; an existing one
    /// keeps its content. `None` as item stores a default `Active` namespace.
    pub fn put_namespace(&mut self, name: &str, item: Option<Value>) -> Result<Value, MockError> {
        let item = match item {
            Some(v) => normalise(v, name, None, None)?,
            None => match self.namespaces.get(name) {
                Some(existing) => self.namespace_item(existing),
                None => default_namespace_item(name),
            },
        };
        let ns = self
            .namespaces
            .entry(name.to_owned())
            .or_insert_with(|| Namespace::new(None));
        ns.item = Some(Arc::new(item.clone()));
        Ok(item)
    }

    /// Removes a namespace and everything in it.
    pub fn delete_namespace(&mut self, name: &str) -> bool {
        self.namespaces.remove(name).is_some()
    }

    /// Stores an item; `ns` is ignored for cluster kinds (pass `""`).
    pub fn put(&mut self, kind: Kind, ns: &str, item: Value) -> Result<Value, MockError> {
        let name = item_name(&item)?;
        let home = (!kind.is_cluster()).then_some(ns);
        let item = normalise(item, &name, home, Some(kind))?;
        let ns_state = self.scope_mut(kind, ns)?;
        ns_state.overrides[kind as usize].insert(name, Some(Arc::new(item.clone())));
        Ok(item)
    }

    /// Deletes an item; `Ok(false)` when there was none of that name.
    pub fn delete(&mut self, kind: Kind, ns: &str, name: &str) -> Result<bool, MockError> {
        let is_synthetic = self.synthetic_index(kind, ns, name).is_some();
        let ns_state = self.scope_mut(kind, ns)?;
        let overrides = &mut ns_state.overrides[kind as usize];
        let existed = match overrides.get(name) {
            Some(v) => v.is_some(),
            None => is_synthetic,
        };
        if is_synthetic {
            overrides.insert(name.to_owned(), None); // a tombstone shadows the generated item
        } else {
            overrides.remove(name);
        }
        Ok(existed)
    }

    fn synthetic_index(&self, kind: Kind, ns: &str, name: &str) -> Option<usize> {
        let i = self.scope(kind, ns).ok()?.synthetic?;
        self.synth.index_of(kind, i, name)
    }

    // ---- counts ----

    pub fn summary(&self) -> Summary {
        let by_namespace = self
            .namespaces
            .iter()
            .map(|(name, ns)| (name.clone(), self.counts(ns)))
            .collect();
        let cluster = Kind::cluster()
            .filter(|k| self.is_served(*k))
            .map(|k| (k, self.count(k, &self.cluster)))
            .collect();
        Summary::from_namespaces(by_namespace, cluster)
    }

    /// Items of one kind in one scope: synthetic ones by arithmetic, corrected by the
    /// edits (O(edits), not O(N)).
    fn count(&self, kind: Kind, ns: &Namespace) -> usize {
        let overrides = ns.overrides(kind);
        let stored = overrides.values().flatten().count();
        let Some(i) = ns.synthetic else { return stored };
        let shadowed = overrides
            .keys()
            .filter(|k| self.synth.index_of(kind, i, k).is_some())
            .count();
        self.synth.len(kind) - shadowed + stored
    }

    fn counts(&self, ns: &Namespace) -> Counts {
        let e = self.synth.spec.endpoints_per_workload;
        let mut c = Counts {
            projects: self.count(Kind::Project, ns),
            components: self.count(Kind::Component, ns),
            workloads: self.count(Kind::Workload, ns),
            kinds: Kind::namespaced()
                .filter(|k| k.is_platform() && self.is_served(*k))
                .map(|k| (k, self.count(k, ns)))
                .collect(),
            ..Counts::default()
        };
        let stored_workloads = || ns.overrides(Kind::Workload).values().flatten();
        if let Some(i) = ns.synthetic {
            let hidden: Vec<usize> = ns
                .overrides(Kind::Workload)
                .keys()
                .filter_map(|k| self.synth.index_of(Kind::Workload, i, k))
                .collect();
            c.endpoints = (self.synth.len(Kind::Workload) - hidden.len()) * e;
            c.endpoints_with_schema = self.synth.namespace_schema_count(i)
                - hidden
                    .iter()
                    .map(|&w| self.synth.workload_schema_count(i, w))
                    .sum::<usize>();
        }
        for w in stored_workloads() {
            let (total, with_schema) = endpoint_counts(w);
            c.endpoints += total;
            c.endpoints_with_schema += with_schema;
        }
        c
    }
}

/// Builds a page, rendering only the items actually returned.
fn page<T>(
    picked: Vec<(String, T)>,
    more: bool,
    scanned: u64,
    render: impl Fn(&(String, T)) -> Value,
) -> Page {
    Page {
        last: picked.last().map(|(n, _)| n.clone()),
        items: picked.iter().map(render).collect(),
        more,
        scanned,
    }
}

fn item_name(item: &Value) -> Result<String, MockError> {
    item.pointer("/metadata/name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| MockError::InvalidItem("metadata.name is missing".into()))
}

/// Makes a stored item consistent with where it is stored: name, namespace, kind.
fn normalise(
    mut item: Value,
    name: &str,
    ns: Option<&str>,
    kind: Option<Kind>,
) -> Result<Value, MockError> {
    let obj = item
        .as_object_mut()
        .ok_or_else(|| MockError::InvalidItem("not a JSON object".into()))?;
    if let Some(kind) = kind {
        obj.entry("apiVersion")
            .or_insert_with(|| json!(API_VERSION));
        obj.entry("kind").or_insert_with(|| json!(kind.api_kind()));
    }
    let meta = obj.entry("metadata").or_insert_with(|| json!({}));
    let meta = meta
        .as_object_mut()
        .ok_or_else(|| MockError::InvalidItem("metadata is not an object".into()))?;
    meta.insert("name".into(), json!(name));
    if let Some(ns) = ns {
        meta.entry("namespace").or_insert_with(|| json!(ns));
    }
    Ok(item)
}

/// (endpoints, endpoints with non-empty `schema.content`) of a workload item.
fn endpoint_counts(workload: &Value) -> (usize, usize) {
    let Some(eps) = workload
        .pointer("/spec/endpoints")
        .and_then(Value::as_object)
    else {
        return (0, 0);
    };
    let with_schema = eps
        .values()
        .filter(|ep| {
            ep.pointer("/schema/content")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.is_empty())
        })
        .count();
    (eps.len(), with_schema)
}

impl InstallationSpec {
    /// Exact counts of the installation this spec generates, before any edit.
    pub fn expected_counts(&self) -> Summary {
        Store::new(self.clone()).summary()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(
        store: &Store,
        kind: Kind,
        ns: &str,
        limit: usize,
        filter: Filter,
    ) -> (Vec<String>, usize) {
        let hidden = |_: &str| false;
        let (mut names, mut after, mut calls) = (Vec::new(), None::<String>, 0);
        loop {
            calls += 1;
            let q = PageQuery {
                after: after.as_deref(),
                limit,
                filter,
                labels: None,
                hidden: &hidden,
            };
            let p = store.list(kind, ns, &q).unwrap();
            names.extend(
                p.items
                    .iter()
                    .map(|i| i["metadata"]["name"].as_str().unwrap().to_owned()),
            );
            if !p.more {
                return (names, calls);
            }
            after = p.last;
        }
    }

    #[test]
    fn merge_with_edits_keeps_order_and_counts() {
        let mut s = Store::new(InstallationSpec::small());
        let ns = "ns-000";
        assert!(s
            .delete(Kind::Component, ns, "ns-000-proj-00-comp-001")
            .unwrap());
        assert!(!s
            .delete(Kind::Component, ns, "ns-000-proj-00-comp-001")
            .unwrap());
        s.put(Kind::Component, ns, json!({"metadata": {"name": "aaa-first"}, "spec": {"owner": {"projectName": "ns-000-proj-01"}}})).unwrap();
        s.put(Kind::Component, ns, json!({"metadata": {"name": "ns-000-proj-00-comp-002"}, "spec": {"owner": {"projectName": "ns-000-proj-01"}}})).unwrap();
        s.put(
            Kind::Component,
            ns,
            json!({"metadata": {"name": "zzz-last"}}),
        )
        .unwrap();

        let expected = s.names(Kind::Component, ns).unwrap();
        assert_eq!(expected.len(), 12 - 1 + 2);
        for limit in [1, 2, 5, 100] {
            assert_eq!(all(&s, Kind::Component, ns, limit, Filter::All).0, expected);
        }
        let (proj1, _) = all(
            &s,
            Kind::Component,
            ns,
            2,
            Filter::Project("ns-000-proj-01"),
        );
        assert_eq!(proj1.len(), 4 + 2);
        let (proj0, _) = all(
            &s,
            Kind::Component,
            ns,
            2,
            Filter::Project("ns-000-proj-00"),
        );
        assert_eq!(
            proj0,
            vec!["ns-000-proj-00-comp-000", "ns-000-proj-00-comp-003"]
        );
        assert_eq!(s.summary().by_namespace[ns].components, 13);
    }

    #[test]
    fn workload_edits_adjust_endpoint_counts() {
        let mut s = Store::new(InstallationSpec::small());
        let before = s.summary();
        let w = "ns-001-proj-02-comp-003-workload";
        let old = s.get(Kind::Workload, "ns-001", w).unwrap().unwrap();
        let (_, old_schema) = endpoint_counts(&old);
        s.put(Kind::Workload, "ns-001", json!({"metadata": {"name": w}, "spec": {"endpoints": {"a": {"type": "HTTP", "port": 80, "schema": {"content": "x"}}}}})).unwrap();
        let after = s.summary();
        assert_eq!(after.endpoints, before.endpoints - 2 + 1);
        assert_eq!(
            after.endpoints_with_schema,
            before.endpoints_with_schema - old_schema + 1
        );
        let by_items: usize = s
            .names(Kind::Workload, "ns-001")
            .unwrap()
            .iter()
            .map(|n| endpoint_counts(&s.get(Kind::Workload, "ns-001", n).unwrap().unwrap()).1)
            .sum();
        assert_eq!(by_items, after.by_namespace["ns-001"].endpoints_with_schema);
    }
}
