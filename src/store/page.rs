//! A page's commit: everything a page (or a group of pages) changes, in one transaction
//! (or one statement where it fits), after the catalog accepted it.

use super::*;

/// Everything one page (or a group of consecutive pages) changes, written in one
/// transaction after the sink succeeded.
#[derive(Debug, Default)]
pub struct PageCommit {
    pub seen_refs: Vec<String>,
    /// Namespaces found on a namespaces page, with their walk order.
    pub namespaces: Vec<(i64, String)>,
    /// (namespace, project, owner annotation)
    pub project_owners: Vec<(String, String, Option<String>)>,
    pub workloads: Vec<StagedWorkload>,
    pub item_errors: Vec<ItemError>,
    /// A namespace whose walk is complete: its staged cross-references can go.
    pub drop_namespace_staging: Option<String>,
    /// A namespace whose staging starts with this commit (its first projects page): from
    /// here the store keeps a copy of what it stages (see `staging_cache`).
    pub begins_namespace: Option<String>,
}

impl PageCommit {
    /// Appends the next page's changes: the group then commits as one. A page that
    /// drops a namespace's staging ends its group (the drop runs after the group's
    /// staging writes, so it must be the group's last page).
    pub fn append(&mut self, next: PageCommit) {
        debug_assert!(self.drop_namespace_staging.is_none(), "a namespace's end closes its group");
        self.seen_refs.extend(next.seen_refs);
        self.namespaces.extend(next.namespaces);
        self.project_owners.extend(next.project_owners);
        self.workloads.extend(next.workloads);
        self.item_errors.extend(next.item_errors);
        if next.drop_namespace_staging.is_some() {
            self.drop_namespace_staging = next.drop_namespace_staging;
        }
        if next.begins_namespace.is_some() {
            self.begins_namespace = next.begins_namespace;
        }
    }

    /// Whether it writes what later pages read back: the namespace order, project
    /// owners or workloads (or starts a namespace's staging).
    pub fn stages(&self) -> bool {
        !self.namespaces.is_empty()
            || !self.project_owners.is_empty()
            || !self.workloads.is_empty()
            || self.begins_namespace.is_some()
    }
}

impl Store {
    /// Records one applied page: its entity refs, staged cross-references, per-item
    /// errors and the new cursor, atomically.
    pub async fn commit_page(&self, row: &ProviderRow, page: &PageCommit, lease: (&str, Duration)) -> Result<()> {
        // Each staged workload as its row holds it: kept in memory, or bound to the
        // statement (see `staging_cache`).
        let rows = PageRows::of(page);
        let staged: Vec<StagedRow> = rows.workloads.iter().copied().map(StagedRow::of).collect();
        let plan = self.cache.plan(row, page, staged);
        let result = if self.dialect == Dialect::Postgres && single_statement_fits(page, plan.write.len()) {
            self.commit_page_in_one_statement(row, page, &rows, &plan, lease).await
        } else {
            self.commit_page_in_a_transaction(row, page, &rows, &plan, lease).await
        };
        match &result {
            Ok(()) => self.cache.committed(row, page, plan),
            // It may or may not have been written: the copy cannot tell.
            Err(_) => self.cache.forget(&row.name),
        }
        result
    }

    pub(super) async fn commit_page_in_a_transaction(
        &self,
        row: &ProviderRow,
        page: &PageCommit,
        rows: &PageRows<'_>,
        plan: &Plan,
        lease: (&str, Duration),
    ) -> Result<()> {
        let staged = &plan.write;
        let p = &row.name;
        let mut tx = self.begin().await?;
        // Fence first: nothing of this page is written by a process that lost the lease.
        let d = self.dialect;
        write_provider(&mut tx, d, row, Some(lease)).await?;
        set_staging_holder(&mut tx, d, p, plan.holder.as_deref()).await?;
        if !page.seen_refs.is_empty() {
            let refs = json(&page.seen_refs);
            for sql in [self.sql(SEEN_PAGE_INSERT), own_refs_insert(d).into()] {
                sqlx::query(&sql)
                    .bind(p)
                    .bind(row.cycle)
                    .bind(refs.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| Error::db("recording entity refs", e))?;
            }
        }
        // Staged rows: one multi-row upsert per kind and page, not one statement per row
        // (per row, a workloads page cost 100 statements: 100 round trips on PostgreSQL).
        for chunk in rows.namespaces.chunks(STAGE_CHUNK) {
            let sql = multi_row_upsert(d, NAMESPACES_TABLE, chunk.len(), 2, &NAMESPACES_CONFLICT);
            let mut q = bind_provider_once(d, sqlx::query(&sql), p);
            for (seq, name) in chunk {
                q = bind_provider_per_row(d, q, p).bind(*seq).bind(name.as_str());
            }
            q.execute(&mut *tx).await.map_err(|e| Error::db("staging namespaces", e))?;
        }
        for chunk in rows.owners.chunks(STAGE_CHUNK) {
            let sql = multi_row_upsert(d, PROJECTS_TABLE, chunk.len(), 3, &PROJECTS_CONFLICT);
            let mut q = bind_provider_once(d, sqlx::query(&sql), p);
            for (ns, project, owner) in chunk {
                q = bind_provider_per_row(d, q, p).bind(ns.as_str()).bind(project.as_str()).bind(owner.as_deref());
            }
            q.execute(&mut *tx).await.map_err(|e| Error::db("staging projects", e))?;
        }
        write_staged_workloads(&mut tx, d, p, staged).await?;
        if !page.item_errors.is_empty() {
            let kept: i64 = sqlx::query(&self.sql("SELECT COUNT(*) FROM oc_ingest_item_errors WHERE provider = $1"))
                .bind(p)
                .fetch_one(&mut *tx)
                .await
                .map_err(|e| Error::db("counting item errors", e))?
                .get(0);
            for err in page.item_errors.iter().take((MAX_ITEM_ERRORS - kept).max(0) as usize) {
                sqlx::query(&self.sql(
                    "INSERT INTO oc_ingest_item_errors (provider, cycle, at, path, item, message) VALUES ($1, $2, $3, $4, $5, $6)",
                ))
                .bind(p)
                .bind(row.cycle)
                .bind(err.at)
                .bind(&err.path)
                .bind(err.item.as_deref())
                .bind(&err.message)
                .execute(&mut *tx)
                .await
                .map_err(|e| Error::db("recording item errors", e))?;
            }
        }
        if let Some(ns) = &page.drop_namespace_staging {
            for table in ["oc_ingest_stage_projects", "oc_ingest_stage_workloads"] {
                sqlx::query(&self.sql(&format!("DELETE FROM {table} WHERE provider = $1 AND namespace = $2")))
                    .bind(p)
                    .bind(ns)
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| Error::db(&format!("clearing {table}"), e))?;
            }
        }
        tx.commit().await.map_err(|e| Error::db("committing a page", e))
    }

    /// PostgreSQL: the common page (refs, staged projects or workloads) in one statement
    /// of data-modifying CTEs, atomic without BEGIN and COMMIT: one round trip instead of
    /// four or five. Every insert reads from the lease-fenced provider update, so a
    /// process that lost the lease writes nothing.
    pub(super) async fn commit_page_in_one_statement(
        &self,
        row: &ProviderRow,
        page: &PageCommit,
        rows: &PageRows<'_>,
        plan: &Plan,
        lease: (&str, Duration),
    ) -> Result<()> {
        let owners = &rows.owners;
        let workloads = &plan.write;

        // The fenced update also records who holds the staged workloads.
        let holder = FENCED_PROVIDER_PARAMS + 1;
        let update = provider_update(true).replace(" WHERE ", &format!(", staging_holder = ${holder} WHERE "));
        let mut sql = format!("WITH fence AS ({update} RETURNING name)");
        let mut n = holder;
        if !page.seen_refs.is_empty() {
            n += 1;
            sql.push_str(&format!(
                ", seen AS (INSERT INTO oc_ingest_seen_pages (provider, cycle, refs) SELECT fence.name, $1, ${n} FROM fence), \
                 owned AS (INSERT INTO {ENTITY_COLUMNS} SELECT fence.name, j.value, $1 FROM fence, json_array_elements_text(${n}::json) AS j \
                 ON CONFLICT DO NOTHING)"
            ));
        }
        let mut values = |rows: usize, cols: usize| -> String {
            let mut v = String::new();
            for r in 0..rows {
                v.push_str(if r == 0 { "(" } else { ", (" });
                for c in 0..cols {
                    n += 1;
                    v.push_str(&format!("{}${n}", if c == 0 { "" } else { ", " }));
                }
                v.push(')');
            }
            v
        };
        let pg = Dialect::Postgres;
        if !owners.is_empty() {
            let rows = format!("SELECT fence.name, v.* FROM fence, (VALUES {}) AS v", values(owners.len(), 3));
            sql.push_str(&format!(", owners AS ({})", pg.insert(PROJECTS_TABLE, &rows, &PROJECTS_CONFLICT)));
        }
        if !workloads.is_empty() {
            let rows = format!("SELECT fence.name, v.* FROM fence, (VALUES {}) AS v", values(workloads.len(), 4));
            sql.push_str(&format!(", workloads AS ({})", pg.insert(WORKLOADS_TABLE, &rows, &WORKLOADS_CONFLICT)));
        }
        sql.push_str(" SELECT COUNT(*) FROM fence");

        let mut q = bind_provider(sqlx::query(&sql), row, Some(lease)).bind(plan.holder.as_deref());
        if !page.seen_refs.is_empty() {
            q = q.bind(json(&page.seen_refs));
        }
        for (ns, project, owner) in owners {
            q = q.bind(ns.as_str()).bind(project.as_str()).bind(owner.as_deref());
        }
        for w in workloads {
            q = q.bind(w.namespace.as_str()).bind(w.wkey.as_str()).bind(&*w.facts).bind(&*w.apis);
        }
        // Not fetch_one: through sqlx's Any driver it returns at the first row, before
        // PostgreSQL has committed (at Sync) and before an error that follows the row (a
        // connection terminated mid-commit) is read: a lost commit would count as done.
        // fetch_all reads on to ReadyForQuery.
        let rows = q.fetch_all(&self.pool).await.map_err(|e| Error::db("committing a page", e))?;
        let fenced: i64 = rows.first().map_or(0, |r| r.get(0));
        if fenced == 1 {
            Ok(())
        } else {
            Err(lease_lost())
        }
    }
}

/// Rows per multi-row statement (at most 1 + 4 x 200 bind parameters on PostgreSQL, 5 x 200
/// on SQLite, where the provider is bound in every row).
pub(super) const STAGE_CHUNK: usize = 200;

/// Whether [`Store::commit_page_in_one_statement`] covers a page: most pages (rarer
/// parts, like item errors, the end of a namespace or a namespaces page, take the
/// transaction).
pub(super) fn single_statement_fits(page: &PageCommit, workloads: usize) -> bool {
    page.namespaces.is_empty()
        && page.item_errors.is_empty()
        && page.drop_namespace_staging.is_none()
        && FENCED_PROVIDER_PARAMS + 2 + 3 * page.project_owners.len() + 4 * workloads <= MAX_STATEMENT_PARAMS
}

/// Bind parameters of one PostgreSQL statement, at most (the protocol allows 65,535).
pub(super) const MAX_STATEMENT_PARAMS: usize = 16_000;

/// Binds the provider of a multi-row statement where it appears: once, as `$1`, where
/// parameters are numbered ([`bind_provider_once`]); at the start of every row where
/// they are positional ([`bind_provider_per_row`]).
pub(super) fn bind_provider_once<'q>(d: Dialect, q: AnyQuery<'q>, provider: &'q str) -> AnyQuery<'q> {
    if d.numbered() {
        q.bind(provider)
    } else {
        q
    }
}

pub(super) fn bind_provider_per_row<'q>(d: Dialect, q: AnyQuery<'q>, provider: &'q str) -> AnyQuery<'q> {
    if d.numbered() {
        q
    } else {
        q.bind(provider)
    }
}

pub(super) const NAMESPACES_TABLE: &str = "oc_ingest_cycle_namespaces (provider, seq, name)";
pub(super) const NAMESPACES_CONFLICT: Conflict = Conflict { key: "provider, seq", update: &["name"] };
pub(super) const PROJECTS_TABLE: &str = "oc_ingest_stage_projects (provider, namespace, project, owner)";
pub(super) const PROJECTS_CONFLICT: Conflict = Conflict { key: "provider, namespace, project", update: &["owner"] };
pub(super) const WORKLOADS_TABLE: &str = "oc_ingest_stage_workloads (provider, namespace, wkey, facts, apis)";
/// A component's first staged workload stays (see `PageRows::of`).
pub(super) const WORKLOADS_CONFLICT: Conflict = Conflict { key: "provider, namespace, wkey", update: &[] };

/// A page's staged rows as one statement may write them: PostgreSQL refuses a statement
/// that touches a row twice, so a repeated staging key keeps its last row, as
/// consecutive upserts would.
pub(super) struct PageRows<'a> {
    namespaces: Vec<&'a (i64, String)>,
    owners: Vec<&'a (String, String, Option<String>)>,
    workloads: Vec<&'a StagedWorkload>,
}

impl<'a> PageRows<'a> {
    fn of(page: &'a PageCommit) -> Self {
        PageRows {
            namespaces: last_per_key(&page.namespaces, |(seq, _)| *seq),
            owners: last_per_key(&page.project_owners, |(ns, project, _)| (ns.as_str(), project.as_str())),
            // A component's first workload (by name: lists are sorted) is the one, as the
            // legacy module takes `workloads?component=` items[0].
            workloads: first_per_key(&page.workloads, |w| (w.namespace.as_str(), w.facts.component.as_str())),
        }
    }
}

/// `INSERT INTO <table_cols> VALUES ($1, ...), ...` doing `conflict` with existing keys,
/// for `rows` rows of `cols` parameters each after the provider (bound as
/// [`bind_provider_once`] and [`bind_provider_per_row`] say).
pub(super) fn multi_row_upsert(d: Dialect, table_cols: &str, rows: usize, cols: usize, conflict: &Conflict) -> String {
    let mut values = String::from("VALUES ");
    for r in 0..rows {
        if r > 0 {
            values.push(',');
        }
        // The provider: `$1` where numbered, the row's first `?` elsewhere.
        values.push('(');
        values.push_str(&d.param(1));
        for c in 0..cols {
            values.push_str(&format!(", {}", d.param(2 + r * cols + c)));
        }
        values.push(')');
    }
    d.insert(table_cols, &values, conflict)
}

/// The items in order, keeping only the first one of each key.
pub(super) fn first_per_key<'a, T, K: std::hash::Hash + Eq>(items: &'a [T], key: impl Fn(&'a T) -> K) -> Vec<&'a T> {
    let mut seen = std::collections::HashSet::with_capacity(items.len());
    items.iter().filter(|item| seen.insert(key(item))).collect()
}

/// The items in order, keeping only the last one of each key.
pub(super) fn last_per_key<'a, T, K: std::hash::Hash + Eq>(items: &'a [T], key: impl Fn(&'a T) -> K) -> Vec<&'a T> {
    let mut last = HashMap::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        last.insert(key(item), i);
    }
    items.iter().enumerate().filter(|(i, item)| last.get(&key(item)) == Some(i)).map(|(_, item)| item).collect()
}

/// Upserts staged workloads, one multi-row statement per [`STAGE_CHUNK`] rows.
pub(super) async fn write_staged_workloads(tx: &mut Transaction<'static, Any>, d: Dialect, provider: &str, rows: &[StagedRow]) -> Result<()> {
    for chunk in rows.chunks(STAGE_CHUNK) {
        let sql = multi_row_upsert(d, WORKLOADS_TABLE, chunk.len(), 4, &WORKLOADS_CONFLICT);
        let mut q = bind_provider_once(d, sqlx::query(&sql), provider);
        for w in chunk {
            q = bind_provider_per_row(d, q, provider).bind(w.namespace.as_str()).bind(w.wkey.as_str()).bind(&*w.facts).bind(&*w.apis);
        }
        q.execute(&mut **tx).await.map_err(|e| Error::db("staging workloads", e))?;
    }
    Ok(())
}

/// Records who holds the current namespace's staged workloads in memory (`None`: they
/// are all in the database).
pub(super) async fn set_staging_holder(tx: &mut Transaction<'static, Any>, d: Dialect, provider: &str, holder: Option<&str>) -> Result<()> {
    sqlx::query(&d.sql("UPDATE oc_ingest_providers SET staging_holder = $1 WHERE name = $2"))
        .bind(holder)
        .bind(provider)
        .execute(&mut **tx)
        .await
        .map_err(|e| Error::db("recording the staging holder", e))?;
    Ok(())
}
