//! The cursor walk: one OpenChoreo list page per step, through the lists of
//! [`crate::kinds::LISTS`] in their order, which makes the cross-references work without
//! holding the installation in memory:
//!
//! ```text
//! namespaces (all pages) -> for each namespace: environments .. workflows,
//!   projects -> workloads -> components -> the cluster-scoped lists
//! ```
//!
//! Projects stage their owner, workloads stage their facts (APIs, dependencies) in the
//! state database; components read them back one page at a time. Every other list's
//! items become entities on their own (types also get a Template, some from one `/schema`
//! request per item). The walk's position is a small [`WalkCursor`] persisted with every
//! page's commit (pages commit in small groups).

use std::collections::HashMap;

use serde_json::value::RawValue;
use serde_json::Value;

use crate::client::{Client, Page};
pub use crate::cursor::{segment, Phase, WalkCursor};
use crate::kinds::{Role, Scope, TemplateRule, TemplateSource, Translate, CLUSTER_NAMESPACE};
use crate::engine::status::ItemError;
use crate::error::{Error, ErrorCode, Result};
use crate::model::{Component, Namespace, Project, Workload};
use crate::store::{now_ms, PageCommit, StagedWorkload, Store};
use crate::translate::{self, ComponentLinks, Entity, TranslateContext};

/// `/schema` requests of one page in flight at once.
const SCHEMA_REQUESTS_AT_ONCE: usize = 8;

/// A list whose cursor keeps expiring is restarted this many times, then backs off.
pub const MAX_LIST_RESTARTS: i64 = 5;

/// One page walked: what to hand to the catalog and what to commit afterwards.
#[derive(Debug, Default)]
pub struct StepResult {
    pub entities: Vec<Entity>,
    pub commit: PageCommit,
    pub next: WalkCursor,
    pub requests: u32,
    /// The list path this step read, for logs.
    pub path: String,
    /// Commit this step, then fail the burst with this error (a list that keeps failing).
    pub then_fail: Option<Error>,
    /// Whether a page was read (a list restart or a skipped namespace reads none).
    pub fetched: bool,
    /// How long reading the page took (see `Page::fetch_millis`), when one was read.
    pub fetch_millis: f64,
}

/// A page read ahead of its processing (or the failure of reading it).
#[derive(Debug)]
pub struct Fetched {
    cur: WalkCursor,
    path: String,
    page: Result<Page>,
    /// A page already turned into entities and staged rows on the read-ahead task (its
    /// `page.items` are then empty).
    translated: Option<Translated>,
}

/// A workloads or components page translated ahead of its turn, while the burst hands
/// the page before it to the catalog: what [`Walker::process`] would have made of its
/// items. Pure given the page, its namespace and (components) the staged rows.
#[derive(Debug)]
pub struct Translated {
    items: usize,
    entities: Vec<Entity>,
    commit: PageCommit,
}

/// A components page parsed, with the staged cross-references it refers to.
#[derive(Debug)]
pub struct PreparedComponents {
    /// Each item, or why it could not be read (with its name, when known).
    items: Vec<std::result::Result<Component, (String, Option<String>)>>,
    /// The page's workloads, by component name.
    workloads: HashMap<String, StagedWorkload>,
    /// The workloads they consume from that are not among the page's, by component
    /// name (facts only).
    targets: HashMap<String, StagedWorkload>,
    /// The page's projects that the namespace's projects list had, with their owner
    /// annotations.
    owners: HashMap<String, Option<String>>,
}

impl PreparedComponents {
    /// Parses a components page and reads what it needs from the staging tables: three
    /// look-ups per page, whatever its size, the first two at once. Valid once the
    /// namespace's projects and workloads are committed; a components page's read-ahead
    /// task does it then, while earlier pages are processed.
    pub async fn prepare(store: &Store, provider: &str, ns: &str, items: Vec<Box<RawValue>>) -> Result<Self> {
        let items: Vec<_> = items
            .iter()
            .map(|item| parse_item::<Component>(item).map_err(|(err, name, _)| (format!("invalid component: {err}"), name)))
            .collect();
        let names: Vec<String> = items
            .iter()
            .filter_map(|item| match item {
                Ok(c) => Some(c.metadata.name.clone()),
                Err((_, name)) => name.clone(),
            })
            .collect();
        let projects: Vec<String> = items.iter().flatten().map(|c| c.spec.owner.project_name.clone()).collect();
        // The page's own workloads and its projects' owners at once (two connections).
        let (workloads, owners) = tokio::try_join!(
            store.staged_workloads(provider, ns, &names, true),
            store.staged_project_owners(provider, ns, &projects)
        )?;
        // Targets among the page's own components are already in hand (dependencies
        // within a project are common, and a project's components are often listed
        // together); only the others are read.
        let targets: Vec<String> = workloads
            .values()
            .flat_map(|w| w.facts.consumes.iter().map(|t| &t.component))
            .filter(|target| !workloads.contains_key(*target))
            .cloned()
            .collect();
        let targets = if targets.is_empty() { HashMap::new() } else { store.staged_workloads(provider, ns, &targets, false).await? };
        Ok(PreparedComponents { items, workloads, targets, owners })
    }
}

/// What reading one page takes: the list's path and the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub path: String,
    pub cursor: Option<String>,
}

impl Fetched {
    /// A page read by a [`PageRequest`] for the position `cur`.
    pub fn new(cur: WalkCursor, request: PageRequest, page: Result<Page>, translated: Option<Translated>) -> Fetched {
        Fetched { cur, path: request.path, page, translated }
    }

    /// The position of this page (with its namespace's name resolved).
    pub fn position(&self) -> &WalkCursor {
        &self.cur
    }

    /// What this page tells before it is processed, unless reading it failed.
    pub fn head(&self) -> Option<PageHead> {
        let page = self.page.as_ref().ok()?;
        let items = self.translated.as_ref().map_or(page.items.len(), |t| t.items);
        Some(PageHead { next_cursor: page.next_cursor.clone(), items })
    }
}

/// The start of a page: enough to request the next one before this one is processed.
#[derive(Debug, Clone)]
pub struct PageHead {
    pub next_cursor: Option<String>,
    pub items: usize,
}

impl WalkCursor {
    /// The request for the page after the one at this position (read from `path`), and
    /// that page's position as far as the head tells it (what the next request and the
    /// pause rule need), when the head alone names it: its next cursor, or the next list
    /// of the same namespace. A page that will fail the walk names none.
    pub fn position_after(&self, path: &str, head: &PageHead) -> Option<(PageRequest, WalkCursor)> {
        match &head.next_cursor {
            Some(next) if self.cursor.as_ref() != Some(next) => {
                let max_pages = self.max_pages_per_list.unwrap_or(100_000);
                (self.list_pages + 1 < max_pages).then(|| {
                    let position = WalkCursor {
                        cursor: Some(next.clone()),
                        list_pages: self.list_pages + 1,
                        list_items: self.list_items + head.items as i64,
                        ..self.clone()
                    };
                    (PageRequest { path: path.to_string(), cursor: Some(next.clone()) }, position)
                })
            }
            Some(_) => None,
            None => {
                let next = self.following_list()?;
                Some((next.request()?, next))
            }
        }
    }
}

impl WalkCursor {
    /// The request for the page at this position, when it needs nothing from the state
    /// database (a new namespace's name is read from the staged order).
    pub fn request(&self) -> Option<PageRequest> {
        Some(PageRequest { path: self.list_path()?, cursor: self.cursor.clone() })
    }
}

pub struct Walker<'a> {
    pub client: &'a Client,
    pub store: &'a Store,
    pub ctx: &'a TranslateContext,
    pub provider: &'a str,
}

/// An item parsed straight from its raw JSON; on failure, the error and the item's
/// `metadata.name` when it can be read at all.
fn parse_item<T: serde::de::DeserializeOwned>(raw: &RawValue) -> std::result::Result<T, (serde_json::Error, Option<String>, Value)> {
    serde_json::from_str(raw.get()).map_err(|e| {
        let item: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
        let name = item.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).map(String::from);
        (e, name, item)
    })
}

impl Walker<'_> {
    /// Reads the page at `cursor` without touching the state: the burst fetches the next
    /// page this way while the current one is applied and committed. Request failures
    /// are kept in the result and handled by `process`.
    pub async fn fetch(&self, cursor: &WalkCursor) -> Result<Fetched> {
        let mut cur = cursor.clone();
        if cur.needs_namespace() {
            match self.store.cycle_namespace(self.provider, cur.ns_index).await? {
                Some(name) => cur.namespace = Some(name),
                // The staged order is gone (cleared by hand?): end the walk of this cycle
                // rather than guess; nothing is removed for a walk that did not finish.
                None => {
                    return Err(Error::new(
                        ErrorCode::Database,
                        format!("namespace #{} of this cycle is not in oc_ingest_cycle_namespaces; reset the provider", cur.ns_index + 1),
                    ))
                }
            }
        }
        let path = cur.list_path().expect("a position being walked has a list");
        let page = self.client.list(&path, cur.cursor.as_deref()).await;
        Ok(Fetched { cur, path, page, translated: None })
    }

    /// Turns a fetched page into entities, staged cross-references and the next cursor.
    pub async fn process(&self, fetched: Fetched) -> Result<StepResult> {
        let Fetched { cur, path, page, translated } = fetched;
        let ns = cur.namespace.clone().unwrap_or_default();
        let page = match page {
            Ok(page) => page,
            Err(e) if e.code == ErrorCode::CursorExpired => return Ok(self.restart_list(cur, path, e)),
            Err(e) if e.code == ErrorCode::NotFound && cur.phase != Phase::NAMESPACES => {
                return self.list_not_found(cur, path, e).await;
            }
            Err(e) => return Err(e),
        };

        if page.next_cursor.is_some() && page.next_cursor == cur.cursor {
            return Err(Error::new(
                ErrorCode::InvalidResponse,
                format!("GET {path}: the server returned the cursor it was given as the next one; refusing to loop"),
            ));
        }
        let max_pages = cur.max_pages_per_list.unwrap_or(100_000);
        if cur.list_pages + 1 >= max_pages && page.next_cursor.is_some() {
            return Err(Error::new(
                ErrorCode::InvalidResponse,
                format!("GET {path}: the list did not end after {max_pages} pages; refusing to page on"),
            ));
        }

        let mut out = StepResult {
            requests: page.requests,
            fetch_millis: page.fetch_millis,
            path: path.clone(),
            fetched: true,
            ..Default::default()
        };
        let items = page.items;
        let count = match translated {
            Some(t) => {
                (out.entities, out.commit) = (t.entities, t.commit);
                t.items
            }
            None => {
                let count = items.len();
                let kind = cur.phase.list().expect("a position being walked has a list");
                match kind.role {
                    Role::Namespaces => self.namespaces_page(&cur, items, &mut out),
                    Role::Projects => self.projects_page(&ns, items, &mut out),
                    Role::Workloads => self.workloads_page(&ns, items, &mut out),
                    Role::Components => {
                        let prepared = PreparedComponents::prepare(self.store, self.provider, &ns, items).await?;
                        self.components_page(&ns, prepared, &mut out)
                    }
                    Role::Platform { kind, translate, template } => {
                        let ns = (kind_scope(&cur) == Scope::Namespaced).then_some(ns.as_str());
                        self.platform_page(&path, ns, kind, translate, template, items, &mut out).await
                    }
                }
                count
            }
        } as i64;
        for e in &mut out.commit.item_errors {
            e.path = path.clone();
        }
        // Nothing of the namespace is staged before its first projects page.
        if cur.phase == Phase::PROJECTS && cur.cursor.is_none() && cur.list_restarts == 0 {
            out.commit.begins_namespace = Some(ns.clone());
        }
        out.commit.seen_refs.extend(out.entities.iter().map(|e| e.entity_ref().to_string()));

        out.next = match page.next_cursor {
            Some(next) => WalkCursor {
                cursor: Some(next),
                list_pages: cur.list_pages + 1,
                list_items: cur.list_items + count,
                ns_count: cur.ns_count + if cur.phase == Phase::NAMESPACES { out.commit.namespaces.len() as i64 } else { 0 },
                ..cur.clone()
            },
            None if cur.phase == Phase::NAMESPACES => cur.after_namespaces_list(cur.ns_count + out.commit.namespaces.len() as i64),
            None => match cur.following_list() {
                Some(next) => next,
                None => {
                    out.commit.drop_namespace_staging = Some(ns);
                    cur.next_namespace()
                }
            },
        };
        Ok(out)
    }

    /// A list answered 404. Only the API's word that the namespace itself is gone makes
    /// that a deletion; a list the server does not have (an older OpenChoreo) is skipped
    /// for the rest of the cycle; anything else fails the burst (and backs off): a 404
    /// from something in the way must not remove entities.
    async fn list_not_found(&self, cur: WalkCursor, path: String, e: Error) -> Result<StepResult> {
        let platform = matches!(cur.phase.list().map(|k| k.role), Some(Role::Platform { .. }));
        let mut requests = 1;
        if kind_scope(&cur) == Scope::Namespaced {
            let ns = cur.namespace.clone().unwrap_or_default();
            requests += 1;
            if !self.client.namespace_exists(&segment(&ns)).await? {
                // The namespace went away since the namespaces phase (a server that
                // answers 404 for its lists): its entities are simply not seen this cycle.
                tracing::info!(namespace = %ns, path = %path, "namespace no longer exists; skipping it");
                let mut commit = PageCommit::default();
                if matches!(cur.phase, Phase::WORKLOADS | Phase::COMPONENTS) {
                    commit.drop_namespace_staging = Some(ns);
                }
                return Ok(StepResult { next: cur.next_namespace(), commit, requests, path, ..Default::default() });
            }
            if !platform {
                return Err(Error::new(
                    ErrorCode::InvalidResponse,
                    format!("{}; but namespace {ns} exists, so this 404 is not a deletion", e.message),
                ));
            }
        }
        if !platform {
            return Err(e);
        }
        let list = cur.phase.as_str();
        tracing::warn!(list, path = %path, "the server does not serve this list (404); skipping it this cycle and keeping its entities");
        let mut here = cur;
        here.unserved.push(list.to_string());
        // Platform lists are never a namespace's last: a following list always exists.
        let next = here.following_list().unwrap_or_else(|| here.next_namespace());
        Ok(StepResult { next, requests, path, ..Default::default() })
    }

    /// A platform list's page: one entity per item and, for types, their Templates (the
    /// `/schema` requests of a page go out a few at a time).
    #[allow(clippy::too_many_arguments)]
    async fn platform_page(
        &self,
        path: &str,
        ns: Option<&str>,
        kind: &'static str,
        translate: Translate,
        template: Option<TemplateRule>,
        items: Vec<Box<RawValue>>,
        out: &mut StepResult,
    ) {
        let ref_ns = ns.unwrap_or(CLUSTER_NAMESPACE);
        let mut want_schema = Vec::new();
        for raw in items {
            let item: Value = match serde_json::from_str(raw.get()) {
                Ok(item) => item,
                Err(e) => {
                    item_error(out, None, format!("invalid {kind}: {e}"));
                    continue;
                }
            };
            let Some(name) = item["metadata"]["name"].as_str().filter(|n| !n.is_empty()).map(String::from) else {
                item_error(out, None, format!("invalid {kind}: metadata.name is missing"));
                continue;
            };
            match translate(self.ctx, ns, &item) {
                Ok(entity) => out.entities.push(entity),
                Err(msg) => keep(out, kind, ref_ns, Some(name.clone()), msg),
            }
            let Some(rule) = template else { continue };
            let made = match rule.source {
                TemplateSource::Inline(make) => make(self.ctx, ns, &item),
                TemplateSource::Schema { custom: Some(custom), .. } if (custom.applies)(&item) => (custom.make)(self.ctx, ns, &item),
                TemplateSource::Schema { .. } => {
                    want_schema.push((name, item));
                    continue;
                }
            };
            template_made(out, ref_ns, rule, &name, made);
        }
        let Some(rule @ TemplateRule { source: TemplateSource::Schema { make, .. }, .. }) = template else { return };
        for chunk in want_schema.chunks(SCHEMA_REQUESTS_AT_ONCE) {
            let requests: Vec<_> = chunk
                .iter()
                .map(|(name, _)| {
                    let client = self.client.clone();
                    let schema_path = format!("{path}/{}/schema", segment(name));
                    tokio::spawn(async move { client.get_json(&schema_path).await })
                })
                .collect();
            for ((name, item), request) in chunk.iter().zip(requests) {
                let answer = request.await.unwrap_or_else(|e| Err(Error::new(ErrorCode::Transient, format!("the /schema request failed: {e}"))));
                match answer {
                    Ok((schema, n)) => {
                        out.requests += n;
                        template_made(out, ref_ns, rule, name, make(self.ctx, ns, item, &schema));
                    }
                    // The type went away since its page was read: so does its Template.
                    Err(e) if e.code == ErrorCode::NotFound => out.requests += 1,
                    Err(e) => {
                        out.requests += 1;
                        template_made(out, ref_ns, rule, name, Err(format!("its Template needs {path}/{name}/schema: {}", e.message)));
                    }
                }
            }
        }
    }

    /// A workloads page's items translated as [`Walker::process`] would: for the
    /// read-ahead, which does it while the page before is applied.
    pub fn translate_workloads(&self, ns: &str, items: Vec<Box<RawValue>>) -> Translated {
        let mut out = StepResult::default();
        let n = items.len();
        self.workloads_page(ns, items, &mut out);
        Translated { items: n, entities: out.entities, commit: out.commit }
    }

    /// A prepared components page translated as [`Walker::process`] would (see
    /// [`Walker::translate_workloads`]).
    pub fn translate_components(&self, ns: &str, prepared: PreparedComponents) -> Translated {
        let mut out = StepResult::default();
        let n = prepared.items.len();
        self.components_page(ns, prepared, &mut out);
        Translated { items: n, entities: out.entities, commit: out.commit }
    }

    fn restart_list(&self, cur: WalkCursor, path: String, e: Error) -> StepResult {
        let restarts = cur.list_restarts + 1;
        let mut next = WalkCursor {
            cursor: None,
            list_pages: 0,
            list_items: 0,
            catch_up_to: Some(cur.list_items.max(cur.catch_up_to.unwrap_or(0))),
            list_restarts: restarts,
            ..cur.clone()
        };
        if cur.phase == Phase::NAMESPACES {
            // The namespace order is staged again from the first page.
            next.ns_count = 0;
        }
        let mut then_fail = None;
        if restarts > MAX_LIST_RESTARTS {
            next.list_restarts = 0;
            next.catch_up_to = None;
            then_fail = Some(Error::new(
                ErrorCode::Transient,
                format!("GET {path}: the list's cursor failed {restarts} times in a row; backing off ({})", e.message),
            ));
        } else {
            tracing::warn!(path = %path, restarts, "cursor failed (expired?); restarting this list from its beginning");
        }
        // An expired cursor costs the failed request and its one retry.
        StepResult { next, requests: 2, path, then_fail, ..Default::default() }
    }

    fn namespaces_page(&self, cur: &WalkCursor, items: Vec<Box<RawValue>>, out: &mut StepResult) {
        for item in items {
            match parse_item::<Namespace>(&item) {
                Ok(ns) => {
                    let seq = cur.ns_count + out.commit.namespaces.len() as i64;
                    out.commit.namespaces.push((seq, ns.metadata.name.clone()));
                    match translate::namespace_to_domain(self.ctx, &ns) {
                        Ok(entity) => out.entities.push(entity),
                        Err(msg) => keep(out, "domain", "default", Some(ns.metadata.name.clone()), msg),
                    }
                }
                Err((err, name, _)) => keep(out, "domain", "default", name, format!("invalid namespace: {err}")),
            }
        }
    }

    fn projects_page(&self, ns: &str, items: Vec<Box<RawValue>>, out: &mut StepResult) {
        for item in items {
            match parse_item::<Project>(&item) {
                Ok(p) => {
                    let owner = p.metadata.annotations.get("backstage.io/owner").cloned();
                    out.commit.project_owners.push((ns.to_string(), p.metadata.name.clone(), owner));
                    match translate::project_to_system(self.ctx, &p) {
                        Ok(entity) => out.entities.push(entity),
                        Err(msg) => keep(out, "system", ns, Some(p.metadata.name.clone()), msg),
                    }
                }
                Err((err, name, _)) => keep(out, "system", ns, name, format!("invalid project: {err}")),
            }
        }
    }

    fn workloads_page(&self, ns: &str, items: Vec<Box<RawValue>>, out: &mut StepResult) {
        for item in items {
            match parse_item::<Workload>(&item) {
                Ok(w) => {
                    // Staged, not emitted: an API takes its component's owner, known
                    // only in the components phase.
                    let translated = translate::workload_to_apis(self.ctx, ns, &w);
                    let facts = translate::workload_facts(ns, &w, &translated);
                    let mut apis = Vec::with_capacity(translated.len());
                    for (endpoint, api) in translated {
                        match api {
                            Ok(api) => apis.push(api),
                            Err(msg) => {
                                // An API ingested earlier stays while its endpoint is broken.
                                let api = translate::api_name(w.project_name(), w.component_name(), endpoint);
                                out.commit.seen_refs.push(format!("api:{ns}/{api}").to_lowercase());
                                item_error(out, Some(w.metadata.name.clone()), msg);
                            }
                        }
                    }
                    out.commit.workloads.push(StagedWorkload { namespace: ns.to_string(), facts, apis });
                }
                Err((err, name, item)) => {
                    // What this workload's APIs would be called, read leniently: a
                    // workload that cannot be read keeps the APIs it had (they are not
                    // removed while it is broken).
                    out.commit.seen_refs.extend(raw_api_refs(ns, &item));
                    item_error(out, name, format!("invalid workload: {err}"));
                }
            }
        }
    }

    fn components_page(&self, ns: &str, prepared: PreparedComponents, out: &mut StepResult) {
        let PreparedComponents { items, workloads, targets: target_facts, owners } = prepared;
        let mut components = Vec::with_capacity(items.len());
        let mut broken = Vec::new();
        for item in items {
            match item {
                Ok(c) => components.push(c),
                Err((message, name)) => {
                    broken.extend(name.clone());
                    keep(out, "component", ns, name, message);
                }
            }
        }

        // A component that could not be read keeps its APIs too (they are not re-sent,
        // but not removed either) until it is fixed.
        for name in &broken {
            if let Some(w) = workloads.get(name) {
                out.commit.seen_refs.extend(w.apis.iter().map(|a| a.entity_ref().to_string()));
            }
        }
        let facts_of = |component: &str| workloads.get(component).or_else(|| target_facts.get(component)).map(|w| &w.facts);
        for c in &components {
            let staged = workloads.get(&c.metadata.name);
            let workload = staged.map(|w| w.facts.clone());
            let consumes_apis = workload
                .iter()
                .flat_map(|f| f.consumes.iter())
                .filter(|t| {
                    facts_of(&t.component)
                        .is_some_and(|tf| tf.project == t.project && tf.api_endpoints.contains(&t.endpoint))
                })
                .map(|t| translate::api_name(&t.project, &t.component, &t.endpoint))
                .collect();
            // The legacy module finds components through their project's listing: one
            // whose project is not listed is not emitted (nor are its APIs).
            let Some(project_owner) = owners.get(&c.spec.owner.project_name) else {
                item_error(
                    out,
                    Some(c.metadata.name.clone()),
                    format!("its project {:?} is not in namespace {ns}'s projects list; not emitted", c.spec.owner.project_name),
                );
                continue;
            };
            let project_owner = project_owner.as_deref();
            let links = ComponentLinks { workload, consumes_apis, project_owner: project_owner.map(String::from) };
            // The APIs take the component's resolved owner, as the legacy provider does.
            let owner = match translate::component_to_entity(self.ctx, c, &links) {
                Ok(entity) => {
                    out.entities.push(entity);
                    translate::component_owner(self.ctx, c, project_owner)
                }
                Err(msg) => {
                    keep(out, "component", ns, Some(c.metadata.name.clone()), msg);
                    translate::fallback_owner(self.ctx, project_owner)
                }
            };
            if let Some(w) = staged {
                out.entities.extend(w.apis.iter().map(|api| api.render(self.ctx, ns, &w.facts, owner)));
            }
        }
    }
}

impl Walker<'_> {
    /// One resource of list `kind` (a change event re-reads it), translated as its list's
    /// page translates it: the same entities, item errors, seen refs and, for a workload,
    /// its staged facts and APIs. Components go through [`Walker::translate_component`].
    pub(crate) async fn translate_one(&self, kind: &crate::kinds::ListKind, ns: &str, item: Box<RawValue>) -> StepResult {
        let mut out = StepResult::default();
        match kind.role {
            Role::Namespaces => self.namespaces_page(&WalkCursor::default(), vec![item], &mut out),
            Role::Projects => self.projects_page(ns, vec![item], &mut out),
            Role::Workloads => self.workloads_page(ns, vec![item], &mut out),
            Role::Components => keep(&mut out, "component", ns, None, "a component needs its project and workloads".into()),
            Role::Platform { kind: entity_kind, translate, template } => {
                let scoped = (kind.scope == Scope::Namespaced).then_some(ns);
                let path = kind.list_path(ns);
                self.platform_page(&path, scoped, entity_kind, translate, template, vec![item], &mut out).await;
            }
        }
        out.commit.seen_refs.extend(out.entities.iter().map(|e| e.entity_ref().to_string()));
        out
    }

    /// One component with what [`PreparedComponents::of`] gathered for it.
    pub(crate) fn translate_component(&self, ns: &str, prepared: PreparedComponents) -> StepResult {
        let mut out = StepResult::default();
        self.components_page(ns, prepared, &mut out);
        out.commit.seen_refs.extend(out.entities.iter().map(|e| e.entity_ref().to_string()));
        out
    }
}

impl PreparedComponents {
    /// Components with their workloads, their consumption targets' workloads (both by
    /// component name) and their projects' owner annotations (only listed projects), as
    /// an event gathers them instead of the staging tables.
    pub(crate) fn of(
        items: Vec<Box<RawValue>>,
        workloads: HashMap<String, StagedWorkload>,
        targets: HashMap<String, StagedWorkload>,
        owners: HashMap<String, Option<String>>,
    ) -> Self {
        let items = items
            .iter()
            .map(|item| parse_item::<Component>(item).map_err(|(err, name, _)| (format!("invalid component: {err}"), name)))
            .collect();
        PreparedComponents { items, workloads, targets, owners }
    }
}

/// The API refs a raw workload item would produce, as far as it can be read.
fn raw_api_refs(ns: &str, item: &Value) -> Vec<String> {
    let owner = &item["spec"]["owner"];
    let (Some(project), Some(component)) = (owner["projectName"].as_str(), owner["componentName"].as_str()) else {
        return Vec::new();
    };
    item["spec"]["endpoints"]
        .as_object()
        .into_iter()
        .flat_map(|endpoints| endpoints.keys())
        .map(|endpoint| format!("api:{ns}/{}", translate::api_name(project, component, endpoint)).to_lowercase())
        .collect()
}

/// A type's Template, or why it could not be made (an earlier copy then stays).
fn template_made(out: &mut StepResult, ref_ns: &str, rule: TemplateRule, type_name: &str, made: std::result::Result<Entity, String>) {
    match made {
        Ok(entity) => out.entities.push(entity),
        Err(msg) => keep(out, "template", ref_ns, Some(format!("{}{type_name}", rule.name_prefix)), msg),
    }
}

/// The scope of the list at `cur`.
fn kind_scope(cur: &WalkCursor) -> Scope {
    cur.phase.list().map_or(Scope::Cluster, |k| k.scope)
}

/// Records an item that could not become an entity. When its ref is known it still
/// counts as seen, so an entity ingested earlier stays in the catalog (a malformed
/// update must not delete it) while the status shows the error.
fn keep(out: &mut StepResult, kind: &str, ns: &str, name: Option<String>, message: String) {
    if let Some(n) = &name {
        out.commit.seen_refs.push(format!("{kind}:{ns}/{n}").to_lowercase());
    }
    item_error(out, name, message);
}

/// Records an item error without claiming any entity ref.
fn item_error(out: &mut StepResult, name: Option<String>, message: String) {
    tracing::warn!(item = name.as_deref().unwrap_or("(unnamed)"), error = %message, "skipping an item that cannot become an entity");
    out.commit.item_errors.push(ItemError { path: String::new(), item: name, message, at: now_ms() });
}
