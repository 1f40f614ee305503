//! Cross-references staged while a namespace is walked (project owners, workload facts
//! and API templates), and what a lost in-memory staging rewinds.

use super::*;

/// A workload as the components phase needs it.
#[derive(Debug, Clone, Default)]
pub struct StagedWorkload {
    pub namespace: String,
    pub facts: WorkloadFacts,
    /// Its API entities, owner not yet set.
    pub apis: Vec<ApiTemplate>,
}

/// Staged API templates as `ref U+001B endpoint U+001D ref U+001B endpoint ...` (nothing
/// for none), each endpoint as the JSON `[name, {...}]`; a template an earlier version
/// staged as its rendered entity reads `ref U+001C entity`. Neither part holds a raw
/// control character: a ref is made of validated names, and serde_json escapes control
/// characters inside strings.
pub(super) fn apis_text(apis: &[ApiTemplate]) -> String {
    let mut out = String::new();
    for (i, api) in apis.iter().enumerate() {
        if i > 0 {
            out.push(STAGED_APIS);
        }
        match api {
            ApiTemplate::Endpoint { entity_ref, endpoint, ep } => {
                out.push_str(entity_ref);
                out.push(STAGED_API_ENDPOINT);
                out.push_str(&json(&(endpoint, ep)));
            }
            ApiTemplate::Rendered { entity_ref, json } => {
                out.push_str(entity_ref);
                out.push(STAGED_API_PARTS);
                out.push_str(json);
            }
        }
    }
    out
}

pub(super) fn apis_from_text(text: &str) -> Vec<ApiTemplate> {
    if !text.starts_with('[') {
        return text
            .split(STAGED_APIS)
            .filter_map(|api| {
                if let Some((entity_ref, endpoint)) = api.split_once(STAGED_API_ENDPOINT) {
                    let (endpoint, ep) = serde_json::from_str(endpoint).ok()?;
                    return Some(ApiTemplate::Endpoint { entity_ref: entity_ref.to_string(), endpoint, ep });
                }
                let (entity_ref, json) = api.split_once(STAGED_API_PARTS)?;
                Some(ApiTemplate::Rendered { entity_ref: entity_ref.to_string(), json: json.to_string() })
            })
            .collect();
    }
    // Staged by an earlier version, as JSON: `[{"ref": ..., "entity": {...}}, ...]`, or
    // before that a plain array of entities.
    #[derive(serde::Deserialize)]
    struct Staged<'a> {
        #[serde(rename = "ref", borrow)]
        entity_ref: std::borrow::Cow<'a, str>,
        #[serde(borrow)]
        entity: &'a serde_json::value::RawValue,
    }
    match serde_json::from_str::<Vec<Staged>>(text) {
        Ok(apis) => apis
            .into_iter()
            .map(|a| ApiTemplate::Rendered { entity_ref: a.entity_ref.into_owned(), json: a.entity.get().to_string() })
            .collect(),
        Err(_) => serde_json::from_str::<Vec<serde_json::Value>>(text)
            .unwrap_or_default()
            .into_iter()
            .map(|v| ApiTemplate::Rendered { entity_ref: crate::translate::entity_ref(&v), json: v.to_string() })
            .collect(),
    }
}

impl Store {
    /// A burst starts at `row`: whether the current namespace's staged workloads were
    /// held in memory by a store that is gone (or by a copy that no longer matches). The
    /// copy stays only if its last commit left the walk where `row` says.
    pub fn staging_lost(&self, row: &ProviderRow) -> bool {
        self.cache.check(row)
    }

    /// On a graceful close: writes the workloads this store holds in memory to the
    /// database, so the next process goes on without walking them again; only while the
    /// provider row still names this store as their holder (nobody went on since).
    pub async fn release_staging(&self, provider: &str) -> Result<()> {
        let Some((token, rows)) = self.cache.resident(provider) else { return Ok(()) };
        let mut tx = self.begin().await?;
        let ours = sqlx::query(&self.sql("UPDATE oc_ingest_providers SET staging_holder = NULL WHERE name = $1 AND staging_holder = $2"))
            .bind(provider)
            .bind(&token)
            .execute(&mut *tx)
            .await
            .map_err(|e| Error::db("releasing the staged workloads", e))?
            .rows_affected()
            == 1;
        if ours {
            write_staged_workloads(&mut tx, self.dialect, provider, &rows).await?;
            tx.commit().await.map_err(|e| Error::db("releasing the staged workloads", e))?;
        }
        self.cache.forget(provider);
        Ok(())
    }

    /// After [`Store::staging_lost`]: the walk goes back to the start of the namespace's
    /// workloads list, which stages them again (in the database: the copy starts only
    /// with a namespace). Its projects' owners are in the database already.
    pub async fn rewind_lost_staging(&self, row: &mut ProviderRow, lease: (&str, Duration)) -> Result<()> {
        self.cache.forget(&row.name);
        let mut namespace = None;
        if let Some(walk) = &mut row.walk {
            if matches!(walk.phase, Phase::WORKLOADS | Phase::COMPONENTS) {
                *walk = walk.next_list(Phase::WORKLOADS);
                namespace = walk.namespace.clone();
            }
        }
        let mut tx = self.begin().await?;
        write_provider(&mut tx, self.dialect, row, Some(lease)).await?;
        set_staging_holder(&mut tx, self.dialect, &row.name, None).await?;
        if let Some(ns) = &namespace {
            sqlx::query(&self.sql("DELETE FROM oc_ingest_stage_workloads WHERE provider = $1 AND namespace = $2"))
                .bind(&row.name)
                .bind(ns)
                .execute(&mut *tx)
                .await
                .map_err(|e| Error::db("clearing oc_ingest_stage_workloads", e))?;
        }
        tx.commit().await.map_err(|e| Error::db("walking a namespace's workloads again", e))?;
        row.staging_holder = None;
        Ok(())
    }

    /// The namespace at walk position `seq` of the current cycle.
    pub async fn cycle_namespace(&self, provider: &str, seq: i64) -> Result<Option<String>> {
        let row = sqlx::query(&self.sql("SELECT name FROM oc_ingest_cycle_namespaces WHERE provider = $1 AND seq = $2"))
            .bind(provider)
            .bind(seq)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| Error::db("reading the cycle's namespaces", e))?;
        Ok(row.map(|r| r.get(0)))
    }

    /// Staged workloads of a namespace by component name (unique in a namespace); their
    /// API entities only when `with_apis` (reading other components' facts needs none).
    ///
    /// Each look-up returns its rows joined into one text (see [`STAGED_ROWS`]): one row
    /// instead of one per workload. sqlx hands SQLite rows over from a worker thread one
    /// at a time, so one per workload meant two thread wake-ups per workload. (MySQL
    /// returns a row per workload: its `GROUP_CONCAT` cuts its result at
    /// `group_concat_max_len`, 1 KiB by default on MySQL.)
    pub async fn staged_workloads(
        &self,
        provider: &str,
        namespace: &str,
        components: &[String],
        with_apis: bool,
    ) -> Result<HashMap<String, StagedWorkload>> {
        if let Some(found) = self.cache.workloads(provider, namespace, components, with_apis) {
            return Ok(found);
        }
        let mut out = HashMap::new();
        let mut wkeys: Vec<&String> = components.iter().collect();
        wkeys.sort();
        wkeys.dedup();
        let apis = if with_apis { "COALESCE(apis, '')" } else { "''" };
        for chunk in wkeys.chunks(200) {
            let placeholders = self.dialect.params(3, chunk.len());
            let sql = if self.dialect == Dialect::Postgres {
                // One look-up by the whole primary key per component, fenced (OFFSET 0) so
                // it is not flattened into a join: planned from statistics of the staging
                // table, which fills and empties within minutes, a `wkey IN (...)` scan
                // could read every staged row of the namespace for each page (30 ms
                // instead of 0.3 ms at 5,000 workloads a namespace). A key look-up needs
                // no statistics, so the table needs no ANALYZE either.
                let keys: Vec<String> = placeholders.iter().map(|p| format!("({p}::text)")).collect();
                format!(
                    "SELECT string_agg(s.facts || chr(31) || s.apis, chr(30)) \
                     FROM (VALUES {}) AS k(wkey) CROSS JOIN LATERAL \
                     (SELECT facts, {apis} AS apis FROM oc_ingest_stage_workloads \
                      WHERE provider = $1 AND namespace = $2 AND wkey = k.wkey OFFSET 0) AS s",
                    keys.join(",")
                )
            } else if self.dialect == Dialect::MySql {
                format!(
                    "SELECT CONCAT(facts, CHAR(31 USING utf8mb4), {apis}) \
                     FROM oc_ingest_stage_workloads WHERE provider = ? AND namespace = ? AND wkey IN ({})",
                    placeholders.join(",")
                )
            } else {
                format!(
                    "SELECT group_concat(facts || char(31) || {apis}, char(30)) \
                     FROM oc_ingest_stage_workloads WHERE provider = ? AND namespace = ? AND wkey IN ({})",
                    placeholders.join(",")
                )
            };
            let mut q = sqlx::query(&sql).bind(provider).bind(namespace);
            for k in chunk {
                q = q.bind(k.as_str());
            }
            let rows = q.fetch_all(&self.pool).await.map_err(|e| Error::db("reading staged workloads", e))?;
            for joined in rows.iter().filter_map(|row| text(row, 0)) {
                for (facts, apis) in joined.split(STAGED_ROWS).filter_map(|row| row.split_once(STAGED_COLUMNS)) {
                    if let Some(w) = StagedRow::read(namespace, facts, apis) {
                        out.insert(w.facts.component.clone(), w);
                    }
                }
            }
        }
        Ok(out)
    }

    /// The staged projects among `projects` (those the namespace's projects list had),
    /// with their owner annotations.
    pub async fn staged_project_owners(
        &self,
        provider: &str,
        namespace: &str,
        projects: &[String],
    ) -> Result<HashMap<String, Option<String>>> {
        if let Some(found) = self.cache.owners(provider, namespace, projects) {
            return Ok(found);
        }
        let mut out = HashMap::new();
        let mut names: Vec<&String> = projects.iter().collect();
        names.sort();
        names.dedup();
        for chunk in names.chunks(200) {
            let d = self.dialect;
            let sql = format!(
                "SELECT project, owner FROM oc_ingest_stage_projects WHERE provider = {} AND namespace = {} \
                 AND project IN ({})",
                d.param(1),
                d.param(2),
                d.params(3, chunk.len()).join(",")
            );
            let mut q = sqlx::query(&sql).bind(provider).bind(namespace);
            for k in chunk {
                q = q.bind(k.as_str());
            }
            for r in q.fetch_all(&self.pool).await.map_err(|e| Error::db("reading staged projects", e))? {
                out.insert(r.get(0), text(&r, 1));
            }
        }
        Ok(out)
    }
}


/// Separators of the staged rows a look-up returns as one text: `facts`, U+001F, `apis`,
/// then U+001E before the next row. Both columns hold JSON that serde_json wrote, which
/// escapes every control character inside strings, so neither occurs raw in them.
pub(super) const STAGED_ROWS: char = '\u{1e}';
pub(super) const STAGED_COLUMNS: char = '\u{1f}';
/// Separators inside the staged `apis` column (see [`apis_text`]).
pub(super) const STAGED_APIS: char = '\u{1d}';
pub(super) const STAGED_API_PARTS: char = '\u{1c}';
pub(super) const STAGED_API_ENDPOINT: char = '\u{1b}';

/// A staged workload as its row holds it (the `facts` and `apis` columns' text).
pub(crate) struct StagedRow {
    pub(super) namespace: String,
    pub(super) wkey: String,
    pub(super) facts: Box<str>,
    pub(super) apis: Box<str>,
}

impl StagedRow {
    pub(super) fn of(w: &StagedWorkload) -> StagedRow {
        StagedRow {
            namespace: w.namespace.clone(),
            wkey: w.facts.component.clone(),
            facts: json(&w.facts).into_boxed_str(),
            apis: apis_text(&w.apis).into_boxed_str(),
        }
    }

    /// The workload a row's columns hold (`None`: facts this version cannot read).
    pub(super) fn read(namespace: &str, facts: &str, apis: &str) -> Option<StagedWorkload> {
        let facts = serde_json::from_str::<WorkloadFacts>(facts).ok()?;
        Some(StagedWorkload { namespace: namespace.to_string(), facts, apis: apis_from_text(apis) })
    }
}
