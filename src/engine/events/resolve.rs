//! One event's resource, re-read and translated as the walk would translate it, and what
//! its change removes (what the legacy module leaves to its next full run: a deleted
//! component's APIs, the APIs a workload no longer declares, what a deleted project or
//! namespace held).

use std::collections::{BTreeSet, HashMap};

use serde_json::value::RawValue;
use serde_json::Value;

use super::ResourceKey;
use crate::cursor::segment;
use crate::engine::Engine;
use crate::error::{ErrorCode, Result};
use crate::kinds::{self, Role, Scope, CLUSTER_NAMESPACE, LISTS};
use crate::store::{now_ms, StagedWorkload};
use crate::translate::Entity;
use crate::walk::{PreparedComponents, StepResult, Walker};

/// What an event's resource comes to.
#[derive(Debug, Default)]
pub(crate) struct Resolved {
    pub added: Vec<Entity>,
    /// Owned refs to remove.
    pub removed: Vec<String>,
    /// When the last GET of this resource answered.
    pub fetched_at: i64,
    pub item_errors: Vec<String>,
    /// A workload's event becomes its component's.
    pub follow_up: Option<ResourceKey>,
    /// A cascade a guard refused (the resource's own entities were still removed).
    pub rejected: Option<String>,
    pub requests: u32,
}

fn list(name: &str) -> &'static kinds::ListKind {
    &LISTS[kinds::by_name(name).expect("the kind table has this list")]
}

/// `[from, to)` covering every ref `kind:ns/<anything>` (`/` + 1 is `0`).
fn ref_range(kind: &str, ns: &str, name_prefix: &str) -> (String, String) {
    let from = format!("{kind}:{ns}/{name_prefix}").to_lowercase();
    let mut to = from.clone().into_bytes();
    // The prefix's last byte plus one: `-` -> `.`, `/` -> `0`.
    if let Some(last) = to.last_mut() {
        *last += 1;
    }
    (from, String::from_utf8(to).expect("ASCII"))
}

impl Engine {
    fn walker(&self) -> Walker<'_> {
        Walker { client: &self.client, store: &self.store, ctx: &self.ctx, provider: &self.config.provider_name }
    }

    /// `GET path`: the item, or `None` when the API itself says it does not exist (its
    /// JSON `NOT_FOUND`; a proxy's 404 is an error, never a deletion).
    async fn get_item(&self, path: &str, requests: &mut u32) -> Result<Option<Box<RawValue>>> {
        match self.client.get_json(path).await {
            Ok((v, n)) => {
                *requests += n;
                Ok(Some(RawValue::from_string(v.to_string()).expect("JSON")))
            }
            Err(e) if e.code == ErrorCode::NotFound && e.message.contains("NOT_FOUND") => {
                *requests += 1;
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn resolve(&self, key: &ResourceKey) -> Result<Resolved> {
        let kind = key.kind();
        let mut r = Resolved::default();
        match kind.role {
            Role::Workloads => self.resolve_workload(key, &mut r).await?,
            Role::Components => self.resolve_component(&key.namespace, &key.name, &mut r).await?,
            _ => {
                let item = self.get_item(&kind.item_path(&key.namespace, &key.name), &mut r.requests).await?;
                r.fetched_at = now_ms();
                let expected = self.own_refs(key);
                match item {
                    Some(item) => {
                        let out = self.walker().translate_one(kind, &key.namespace, item).await;
                        self.take(&mut r, out, &expected).await?;
                    }
                    None => {
                        r.removed = expected;
                        self.cascade(key, &mut r).await?;
                    }
                }
            }
        }
        Ok(r)
    }

    /// The refs a (non-component) resource's own entities have: its entity and, for a
    /// type, its Template.
    fn own_refs(&self, key: &ResourceKey) -> Vec<String> {
        let kind = key.kind();
        let ns = if kind.scope == Scope::Cluster { CLUSTER_NAMESPACE } else { key.namespace.as_str() };
        let name = &key.name;
        match kind.role {
            Role::Namespaces => vec![format!("domain:default/{name}")],
            Role::Projects => vec![format!("system:{ns}/{name}")],
            Role::Components => vec![format!("component:{ns}/{name}")],
            Role::Workloads => vec![],
            Role::Platform { kind: entity_kind, template, .. } => {
                let mut refs = vec![format!("{entity_kind}:{ns}/{name}")];
                refs.extend(template.map(|t| format!("template:{ns}/{}{name}", t.name_prefix)));
                refs
            }
        }
        .into_iter()
        .map(|r| r.to_lowercase())
        .collect()
    }

    /// Which of `refs` the provider owns.
    async fn owned(&self, refs: &[String]) -> Result<Vec<String>> {
        let owned = self.store.owned_among(&self.config.provider_name, refs).await?;
        Ok(refs.iter().filter(|r| owned.contains(*r)).cloned().collect())
    }

    /// A translated resource: its entities are added; `expected` refs it no longer
    /// produces (nor keeps, as a broken item keeps its ref) are removed.
    async fn take(&self, r: &mut Resolved, out: StepResult, expected: &[String]) -> Result<()> {
        r.requests += out.requests;
        r.item_errors.extend(out.commit.item_errors.iter().map(|e| format!("{}: {}", e.item.as_deref().unwrap_or("?"), e.message)));
        let seen: BTreeSet<&str> = out.commit.seen_refs.iter().map(String::as_str).collect();
        // Not only owned refs: a page of the walk may be bringing one in right now, and
        // the gone mark keeps it out (removing a ref the catalog does not have is a no-op).
        r.removed.extend(expected.iter().filter(|r| !seen.contains(r.as_str())).cloned());
        r.added.extend(out.entities);
        Ok(())
    }

    /// A workload's change is its component's: found, the component it names; gone, the
    /// component of the same name less the `-workload` suffix (OpenChoreo's naming).
    async fn resolve_workload(&self, key: &ResourceKey, r: &mut Resolved) -> Result<()> {
        let item = self.get_item(&key.kind().item_path(&key.namespace, &key.name), &mut r.requests).await?;
        r.fetched_at = now_ms();
        let component = item
            .and_then(|raw| serde_json::from_str::<Value>(raw.get()).ok())
            .and_then(|v| v["spec"]["owner"]["componentName"].as_str().map(String::from))
            .unwrap_or_else(|| key.name.strip_suffix("-workload").unwrap_or(&key.name).to_string());
        let list = kinds::by_name("components").expect("components list");
        r.follow_up = Some(ResourceKey { list, namespace: key.namespace.clone(), name: component });
        Ok(())
    }

    /// The first workload of `component` (`workloads?component=`, as the legacy module
    /// and the walk take the first), staged as the walk stages it.
    async fn workload_of(&self, ns: &str, component: &str, r: &mut Resolved) -> Result<Option<StagedWorkload>> {
        let workloads = list("workloads");
        let path = format!("{}?component={}", workloads.list_path(ns), segment(component));
        let page = self.client.list(&path, None).await?;
        r.requests += page.requests;
        let Some(first) = page.items.into_iter().next() else { return Ok(None) };
        let out = self.walker().translate_one(workloads, ns, first).await;
        Ok(out.commit.workloads.into_iter().next().filter(|w| w.facts.component == component))
    }

    async fn resolve_component(&self, ns: &str, name: &str, r: &mut Resolved) -> Result<()> {
        let components = list("components");
        let item = self.get_item(&components.item_path(ns, name), &mut r.requests).await?;
        let Some(item) = item else {
            r.fetched_at = now_ms();
            return self.component_gone(ns, name, None, r).await;
        };
        let value: Value = serde_json::from_str(item.get()).unwrap_or(Value::Null);
        let project = value["spec"]["owner"]["projectName"].as_str().unwrap_or_default().to_string();
        // The project's owner annotation (components fall back to it); a component whose
        // project does not exist is not emitted, as the walk does not emit it.
        let mut owners = HashMap::new();
        if !project.is_empty() {
            if let Some(p) = self.get_item(&list("projects").item_path(ns, &project), &mut r.requests).await? {
                let p: Value = serde_json::from_str(p.get()).unwrap_or(Value::Null);
                let owner = p["metadata"]["annotations"]["backstage.io/owner"].as_str().map(String::from);
                owners.insert(project.clone(), owner);
            }
        }
        let mut workloads = HashMap::new();
        let mut targets = HashMap::new();
        if let Some(w) = self.workload_of(ns, name, r).await? {
            let wanted: BTreeSet<String> =
                w.facts.consumes.iter().map(|t| t.component.clone()).filter(|t| t != name).collect();
            for target in wanted {
                if let Some(tw) = self.workload_of(ns, &target, r).await? {
                    targets.insert(target, tw);
                }
            }
            workloads.insert(name.to_string(), w);
        }
        r.fetched_at = now_ms();
        let out = self.walker().translate_component(ns, PreparedComponents::of(vec![item], workloads, targets, owners));
        let mut expected = vec![format!("component:{ns}/{name}").to_lowercase()];
        expected.extend(self.component_apis(ns, name, Some(&project)).await?);
        self.take(r, out, &expected).await
    }

    /// A component that is gone (or whose project is): it and its APIs.
    async fn component_gone(&self, ns: &str, name: &str, project: Option<&str>, r: &mut Resolved) -> Result<()> {
        r.removed.push(format!("component:{ns}/{name}").to_lowercase());
        r.removed.extend(self.component_apis(ns, name, project).await?);
        Ok(())
    }

    /// The owned API refs that belong to component `name` of `ns`: API names are
    /// `<project>-<component>-<endpoint>`, so a name is attributed to the component only
    /// when no other split of it names an owned System and an owned Component (names
    /// that could belong to two components are left to the sweep).
    async fn component_apis(&self, ns: &str, name: &str, project: Option<&str>) -> Result<Vec<String>> {
        let provider = &self.config.provider_name;
        let prefix = project.map(|p| format!("{p}-{name}-")).unwrap_or_default();
        let (from, to) = ref_range("api", ns, &prefix);
        let infix = format!("-{name}-").to_lowercase();
        let candidates: Vec<String> =
            self.store.owned_range(provider, &from, &to).await?.into_iter().filter(|r| r.contains(&infix)).collect();
        self.attributed(ns, &candidates, |_, component| component == name.to_lowercase()).await
    }

    /// The candidates (API refs of `ns`) whose every plausible `<project>-<component>-`
    /// split satisfies `belongs` (and that have at least one).
    async fn attributed(&self, ns: &str, candidates: &[String], belongs: impl Fn(&str, &str) -> bool) -> Result<Vec<String>> {
        let head = format!("api:{ns}/").to_lowercase();
        let splits: Vec<(String, Vec<(String, String)>)> = candidates
            .iter()
            .map(|r| {
                let api = r.strip_prefix(&head).unwrap_or(r);
                let dashes: Vec<usize> = api.match_indices('-').map(|(i, _)| i).collect();
                let mut out = Vec::new();
                for (a, &i) in dashes.iter().enumerate() {
                    for &j in &dashes[a + 1..] {
                        if i > 0 && j > i + 1 && j + 1 < api.len() {
                            out.push((api[..i].to_string(), api[i + 1..j].to_string()));
                        }
                    }
                }
                (r.clone(), out)
            })
            .collect();
        let mut probe: Vec<String> = Vec::new();
        for (_, s) in &splits {
            for (p, c) in s {
                probe.push(format!("system:{ns}/{p}").to_lowercase());
                probe.push(format!("component:{ns}/{c}").to_lowercase());
            }
        }
        probe.sort();
        probe.dedup();
        let owned = self.store.owned_among(&self.config.provider_name, &probe).await?;
        let is_owned = |kind: &str, n: &str| owned.contains(&format!("{kind}:{ns}/{n}").to_lowercase());
        Ok(splits
            .into_iter()
            .filter(|(_, s)| {
                // Splits naming an owned project and an owned component; the component
                // itself counts as owned (it may be removed by this very event).
                let plausible: Vec<&(String, String)> =
                    s.iter().filter(|(p, c)| is_owned("system", p) && (is_owned("component", c) || belongs(p, c))).collect();
                !plausible.is_empty() && plausible.iter().all(|(p, c)| belongs(p, c))
            })
            .map(|(r, _)| r)
            .collect())
    }

    /// What a deleted project or namespace held, unless a guard refuses (then only the
    /// resource's own entities go, and the status says why).
    async fn cascade(&self, key: &ResourceKey, r: &mut Resolved) -> Result<()> {
        let provider = &self.config.provider_name;
        let mut held: Vec<String> = Vec::new();
        match key.kind().role {
            Role::Namespaces => {
                let ns = &key.name;
                let mut entity_kinds: Vec<String> = LISTS.iter().flat_map(|k| k.entity_kinds()).collect();
                entity_kinds.sort();
                entity_kinds.dedup();
                for kind in entity_kinds {
                    let (from, to) = ref_range(&kind, ns, "");
                    held.extend(self.store.owned_range(provider, &from, &to).await?);
                }
            }
            Role::Projects => {
                let (ns, project) = (&key.namespace, &key.name);
                // Its components, as the API still lists them (the walk would no longer
                // emit them: it finds components through their project), and every API
                // named after the project. The namespace's list, filtered here: the API
                // answers `?project=` of a deleted project with 404.
                let path = list("components").list_path(ns);
                let mut cursor: Option<String> = None;
                let mut names = Vec::new();
                loop {
                    let page = self.client.list(&path, cursor.as_deref()).await?;
                    r.requests += page.requests;
                    for item in &page.items {
                        let v: Value = serde_json::from_str(item.get()).unwrap_or(Value::Null);
                        if v["spec"]["owner"]["projectName"].as_str() != Some(project.as_str()) {
                            continue;
                        }
                        if let Some(n) = v["metadata"]["name"].as_str() {
                            names.push(n.to_string());
                        }
                    }
                    match page.next_cursor {
                        Some(c) if Some(&c) != cursor.as_ref() => cursor = Some(c),
                        _ => break,
                    }
                }
                for n in &names {
                    held.push(format!("component:{ns}/{n}").to_lowercase());
                }
                let (from, to) = ref_range("api", ns, &format!("{project}-"));
                let candidates = self.store.owned_range(provider, &from, &to).await?;
                let p = project.to_lowercase();
                held.extend(self.attributed(ns, &candidates, |q, _| q == p).await?);
                held = self.owned(&held).await?;
            }
            _ => return Ok(()),
        }
        held.retain(|h| !r.removed.contains(h));
        if held.is_empty() {
            return Ok(());
        }
        if let Some(limit) = self.config.reject_removals_above_percentage {
            let owned = self.store.count_owned(provider).await?;
            let share = held.len() as f64 * 100.0 / owned.max(1) as f64;
            if share > limit {
                r.rejected = Some(format!(
                    "refused to remove the {} entities {key} held ({share:.1}% of {owned}): above \
                     rejectRemovalsAbovePercentage = {limit}; the next cycle's sweep decides",
                    held.len()
                ));
                return Ok(());
            }
        }
        r.removed.extend(held);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_one_prefix() {
        assert_eq!(ref_range("api", "ns", ""), ("api:ns/".into(), "api:ns0".into()));
        assert_eq!(ref_range("api", "ns", "p-c-"), ("api:ns/p-c-".into(), "api:ns/p-c.".into()));
    }
}
