//! The state store on SQLite, PostgreSQL and MySQL (MariaDB): migrations, the burst
//! lease, page commits.

mod common;

use std::time::Duration;

use common::db::{database_urls, postgres_available, unique_provider, TestDatabase};
use common::pgtemp::TempDatabase;
use openchoreo_incremental::store::{PageCommit, ProviderRow, StagedWorkload, Store};
use openchoreo_incremental::translate::{ApiTemplate, WorkloadFacts};
use openchoreo_incremental::cursor::{Phase, WalkCursor};

#[tokio::test]
async fn migrations_are_idempotent_and_concurrent_opens_are_safe() {
    for url in database_urls().await {
        // Two opens racing on the same database, then a third on the migrated one.
        let (a, b) = tokio::join!(Store::open(&url), Store::open(&url));
        a.unwrap_or_else(|e| panic!("{url}: {e}"));
        b.unwrap_or_else(|e| panic!("{url}: {e}"));
        Store::open(&url).await.unwrap();
    }
    // A SQLite file opened by two pools at once.
    let dir = std::env::temp_dir().join(unique_provider("store"));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("state.sqlite").display());
    let (a, b) = tokio::join!(Store::open(&url), Store::open(&url));
    a.unwrap();
    b.unwrap();
}

/// The versions of `migrations/NNNN_*.sql`, in order: every one is applied (or, where it
/// does not apply, recorded) on every backend.
fn migration_files() -> Vec<i64> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
    let mut versions: Vec<i64> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.split('_').next()?.parse().ok())
        .collect();
    versions.sort();
    versions
}

/// Key columns compare byte by byte: PostgreSQL's by migration 3, whatever the
/// database's collation; MySQL's are utf8mb4_bin (code point order, UTF-8's byte order,
/// case-sensitive); SQLite compares bytes anyway and records migration 3 without running it.
#[tokio::test]
async fn key_columns_compare_bytes() {
    let dir = std::env::temp_dir().join(unique_provider("collation"));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = format!("sqlite://{}?mode=rwc", dir.join("state.sqlite").display());
    let urls = database_urls()
        .await
        .into_iter()
        .map(|url| if url.starts_with("sqlite") { TestDatabase::shared(sqlite.clone()) } else { url });
    for url in urls {
        Store::open(&url).await.unwrap();
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
        let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM oc_ingest_migrations ORDER BY version").fetch_all(&pool).await.unwrap();
        if !url.starts_with("postgres") {
            assert_eq!(versions, migration_files(), "{url}");
        } else {
            // The shared test database may also hold versions of other branches' runs.
            assert!(migration_files().iter().all(|v| versions.contains(v)), "{url}: {versions:?}");
        }
        if url.starts_with("postgres") {
            for (table, column) in [("oc_ingest_entities", "entity_ref"), ("oc_ingest_stage_workloads", "wkey"), ("oc_ingest_stage_projects", "project")] {
                let collation: Option<String> = sqlx::query_scalar(
                    "SELECT collation_name::text FROM information_schema.columns WHERE table_name = $1 AND column_name = $2",
                )
                .bind(table)
                .bind(column)
                .fetch_one(&pool)
                .await
                .unwrap();
                assert_eq!(collation.as_deref(), Some("C"), "{table}.{column}");
            }
        }
        if url.starts_with("mysql") {
            for (table, column) in [("oc_ingest_entities", "entity_ref"), ("oc_ingest_stage_workloads", "wkey"), ("oc_ingest_stage_projects", "project")] {
                let collation: Option<String> = sqlx::query_scalar(
                    "SELECT collation_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?",
                )
                .bind(table)
                .bind(column)
                .fetch_one(&pool)
                .await
                .unwrap();
                assert_eq!(collation.as_deref(), Some("utf8mb4_bin"), "{table}.{column}");
            }
            // Case and trailing bytes tell refs apart, and ranges follow byte order.
            let store = Store::open(&url).await.unwrap();
            let name = unique_provider("bytes");
            store.load_provider(&name).await.unwrap();
            let refs: Vec<String> = ["component:ns/a", "component:ns/A", "component:ns/é", "component:ns/z"].map(String::from).into();
            assert_eq!(store.adopt_refs(&name, &refs).await.unwrap(), 4, "{url}");
            assert_eq!(store.adopt_refs(&name, &refs[..1]).await.unwrap(), 0, "{url}: owned already");
            let range = store.owned_range(&name, "component:ns/", "component:ns0").await.unwrap();
            assert_eq!(range, ["component:ns/A", "component:ns/a", "component:ns/z", "component:ns/é"], "{url}");
        }
    }
}

#[tokio::test]
async fn lease_is_exclusive_expires_and_fences_writes() {
    for url in database_urls().await {
        let store = Store::open(&url).await.unwrap();
        let name = unique_provider("lease");
        let row = store.load_provider(&name).await.unwrap();
        let ttl = Duration::from_millis(300);
        assert!(store.try_acquire_lease(&name, "a", ttl).await.unwrap());
        assert!(!store.try_acquire_lease(&name, "b", ttl).await.unwrap(), "{url}: lease must be exclusive");
        // The holder's writes go through; the other's are refused.
        store.save_provider(&row, Some(("a", ttl))).await.unwrap();
        let err = store.save_provider(&row, Some(("b", ttl))).await.unwrap_err();
        assert_eq!(err.code.as_str(), "LOCKED");
        // A crashed holder never wedges the provider: the lease expires.
        tokio::time::sleep(Duration::from_millis(400)).await;
        assert!(store.try_acquire_lease(&name, "b", ttl).await.unwrap(), "{url}: an expired lease must be free");
        let err = store.commit_page(&row, &PageCommit::default(), ("a", ttl)).await.unwrap_err();
        assert_eq!(err.code.as_str(), "LOCKED", "{url}: the old holder must be fenced off");
        store.release_lease(&name, "b").await.unwrap();
    }
}

const TTL: Duration = Duration::from_secs(30);

/// A store at `url` with a new provider in its first cycle, the lease held by "me".
async fn in_first_cycle(url: &str, prefix: &str) -> (Store, String, ProviderRow) {
    let store = Store::open(url).await.unwrap();
    let name = unique_provider(prefix);
    let mut row = store.load_provider(&name).await.unwrap();
    assert!(store.try_acquire_lease(&name, "me", TTL).await.unwrap());
    row.cycle = 1;
    row.walk = Some(WalkCursor::default());
    store.start_cycle(&row, ("me", TTL)).await.unwrap();
    (store, name, row)
}

#[tokio::test]
async fn seen_refs_are_owned_at_once_and_the_unseen_are_stale_once_a_cycle_settles() {
    for url in database_urls().await {
        let (store, name, mut row) = in_first_cycle(&url, "diff").await;
        let lease = ("me", TTL);
        let refs = |names: &[&str]| names.iter().map(|n| format!("component:ns/{n}")).collect::<Vec<_>>();
        // The same ref on two pages (and twice on one page) is owned once; text JSON
        // would need to escape comes back as it went in.
        let odd = r#"o"dd\ref"#;
        let page = PageCommit { seen_refs: refs(&["a", "b", "b"]), ..Default::default() };
        store.commit_page(&row, &page, lease).await.unwrap();
        let page = PageCommit { seen_refs: refs(&["b", "c", odd]), ..Default::default() };
        store.commit_page(&row, &page, lease).await.unwrap();
        assert_eq!(store.count_owned(&name).await.unwrap(), 4, "{url}");
        store.settle_cycle(&name, 1, lease).await.unwrap();
        assert_eq!((store.count_stale(&name).await.unwrap(), store.count_added(&name, 1).await.unwrap()), (0, 4));

        // Cycle 2 sees only a and c: b and the odd one are stale, and settling twice (a
        // crash before the removals) lists them once.
        row.cycle = 2;
        store.start_cycle(&row, lease).await.unwrap();
        let page = PageCommit { seen_refs: refs(&["a", "c"]), ..Default::default() };
        store.commit_page(&row, &page, lease).await.unwrap();
        store.settle_cycle(&name, 2, lease).await.unwrap();
        store.settle_cycle(&name, 2, lease).await.unwrap();
        assert_eq!(store.count_stale(&name).await.unwrap(), 2, "{url}");
        assert_eq!(store.stale_refs(&name, 10).await.unwrap(), refs(&["b", odd]));
        assert_eq!(store.count_added(&name, 2).await.unwrap(), 0);
        store.forget_refs(&name, &refs(&["b"]), lease).await.unwrap();
        assert_eq!(store.count_owned(&name).await.unwrap(), 3);
        assert_eq!(store.stale_refs(&name, 10).await.unwrap(), refs(&[odd]), "{url}: a forgotten ref is no longer stale");

        // Cycle 3 sees d and is abandoned (reset) before it settles: the catalog has d, so
        // it stays owned, and a later cycle that does not see it removes it.
        row.cycle = 3;
        store.start_cycle(&row, lease).await.unwrap();
        let page = PageCommit { seen_refs: refs(&["d"]), ..Default::default() };
        store.commit_page(&row, &page, lease).await.unwrap();
        row.cycle = 4;
        store.start_cycle(&row, lease).await.unwrap();
        assert_eq!(store.count_owned(&name).await.unwrap(), 4, "{url}: the abandoned cycle's refs are owned");
        assert_eq!(store.count_added(&name, 3).await.unwrap(), 1);
        store.settle_cycle(&name, 4, lease).await.unwrap();
        assert_eq!(store.count_stale(&name).await.unwrap(), 4, "{url}: cycle 4 saw nothing");

        // A process that lost the lease settles nothing.
        let err = store.settle_cycle(&name, 4, ("other", TTL)).await.unwrap_err();
        assert_eq!(err.code.as_str(), "LOCKED");

        // Persisted cursor round-trips.
        let loaded = store.load_provider(&name).await.unwrap();
        assert_eq!(loaded.cycle, 4);
        assert_eq!(loaded.walk, Some(WalkCursor::default()));
    }
}

/// A database at migration 3 with a cycle in progress upgrades to seen pages without
/// losing what the cycle saw: refs recorded before the upgrade are not stale after it.
#[tokio::test]
async fn upgrade_keeps_the_refs_a_cycle_in_progress_saw() {
    let dir = std::env::temp_dir().join(unique_provider("upgrade"));
    std::fs::create_dir_all(&dir).unwrap();
    let mut targets = vec![(format!("sqlite://{}?mode=rwc", dir.join("state.sqlite").display()), None)];
    if postgres_available().await {
        let db = TempDatabase::create("upgrade").await;
        targets.push((db.url.clone(), Some(db)));
    }
    for (url, _guard) in targets {
        let postgres = url.starts_with("postgres");
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
        let v3 = [
            include_str!("../migrations/0001_initial.sql"),
            include_str!("../migrations/0002_staged_workload_apis.sql"),
            if postgres { include_str!("../migrations/0003_postgres_c_collation.sql") } else { "" },
            "CREATE TABLE oc_ingest_migrations (version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL);
             INSERT INTO oc_ingest_migrations VALUES (1, 'initial', 0), (2, 'staged_workload_apis', 0), (3, 'postgres_c_collation', 0);
             INSERT INTO oc_ingest_providers (name, cycle, status, status_since, next_action_at, walk_cursor)
               VALUES ('walking', 5, 'bursting', 0, 0, '{}'), ('resting', 5, 'resting', 0, 0, NULL);
             INSERT INTO oc_ingest_entities VALUES
               ('walking', 'component:ns/seen', 1, 5), ('walking', 'component:ns/unseen', 1, 4),
               ('resting', 'component:ns/seen', 1, 5)",
        ];
        for file in v3 {
            let sql: String = file.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
            for statement in sql.split(';').map(str::trim).filter(|s| !s.is_empty()) {
                sqlx::query(statement).execute(&pool).await.unwrap_or_else(|e| panic!("{url}: {statement}: {e}"));
            }
        }
        pool.close().await;

        let store = Store::open(&url).await.unwrap();
        assert!(store.try_acquire_lease("walking", "me", TTL).await.unwrap());
        store.settle_cycle("walking", 5, ("me", TTL)).await.unwrap();
        assert_eq!(store.stale_refs("walking", 10).await.unwrap(), vec!["component:ns/unseen".to_string()], "{url}");
        // A provider between cycles has nothing in progress to carry over.
        assert!(store.try_acquire_lease("resting", "me", TTL).await.unwrap());
        store.settle_cycle("resting", 6, ("me", TTL)).await.unwrap();
        assert_eq!(store.count_stale("resting").await.unwrap(), 1, "{url}");
    }
}

/// Staged workloads come back from one joined text per look-up (the store's row and
/// column separators are control characters): text holding those characters, quotes and
/// newlines must come back as it went in, on both databases, with or without the APIs.
#[tokio::test]
async fn staged_workloads_round_trip_whatever_their_text_holds() {
    for url in database_urls().await {
        // Read back from the database, and from the store's copy in memory (a page that
        // begins its namespace's staging).
        for begins in [None, Some("ns".to_string())] {
            let (store, name, row) = in_first_cycle(&url, "stage").await;
            let ttl = TTL;
            let nasty = "a\u{1e}b\u{1f}c\u{1d}d\u{1c}e\u{1b}f \"q\" \\ \n\t\u{0}é";
            let staged = |component: &str, apis: usize| StagedWorkload {
                namespace: "ns".into(),
                facts: WorkloadFacts {
                    project: "p".into(),
                    component: component.into(),
                    workload_name: format!("{component}-workload {nasty}"),
                    api_endpoints: vec![nasty.into()],
                    ..Default::default()
                },
                apis: (0..apis).map(|i| endpoint_api(component, &format!("{nasty}{i}"))).collect(),
            };
            let mut workloads = vec![staged("c1", 2), staged("c2", 0), staged("c3", 1)];
            // A template staged by an earlier version: the rendered entity.
            let entity = serde_json::json!({"kind": "API", "spec": {"definition": nasty, "owner": null}});
            workloads[2].apis.push(ApiTemplate::Rendered { entity_ref: "api:ns/old".into(), json: entity.to_string() });
            let page = PageCommit { workloads: workloads.clone(), begins_namespace: begins.clone(), ..Default::default() };
            store.commit_page(&row, &page, ("me", ttl)).await.unwrap();

            let wanted = ["c1".to_string(), "c2".into(), "c3".into(), "missing".into()];
            let read = store.staged_workloads(&name, "ns", &wanted, true).await.unwrap();
            assert_eq!(read.len(), 3, "{url} {begins:?}");
            for w in &workloads {
                let got = &read[&w.facts.component];
                assert_eq!(got.facts, w.facts, "{url} {begins:?}");
                assert_eq!(got.apis, w.apis, "{url} {begins:?}");
            }
            let facts_only = store.staged_workloads(&name, "ns", &wanted[..2], false).await.unwrap();
            assert_eq!(facts_only.len(), 2, "{url} {begins:?}");
            assert!(facts_only.values().all(|w| w.apis.is_empty()), "{url} {begins:?}: no APIs asked for");
            assert_eq!(facts_only["c1"].facts, workloads[0].facts, "{url} {begins:?}");
            assert!(store.staged_workloads(&name, "other", &wanted, true).await.unwrap().is_empty(), "{url} {begins:?}");
        }
    }
}

/// An API as this version stages it: the endpoint, with `definition` as its schema.
fn endpoint_api(component: &str, definition: &str) -> ApiTemplate {
    let ep = serde_json::from_value(serde_json::json!({
        "type": "HTTP", "port": 8080, "visibility": ["namespace"],
        "schema": {"type": "OpenAPI", "content": definition}
    }))
    .unwrap();
    ApiTemplate::Endpoint { entity_ref: format!("api:ns/p-{component}-http"), endpoint: "http".into(), ep }
}

/// A namespace's staged workloads are held in memory only while they fit, and the store
/// answers its staged look-ups from memory only while that copy is known to match the
/// walk. Each step removes rows behind the store's back, or adds some from another
/// process, so a copy kept too long answers wrongly; where the copy is lost, the provider
/// row says so and the walk goes back to the namespace's workloads.
#[tokio::test]
async fn staged_rows_are_held_in_memory_only_while_they_match_the_walk() {
    let dir = std::env::temp_dir().join(unique_provider("cache"));
    std::fs::create_dir_all(&dir).unwrap();
    let sqlite = format!("sqlite://{}?mode=rwc", dir.join("state.sqlite").display());
    let urls = database_urls()
        .await
        .into_iter()
        .map(|url| if url.starts_with("sqlite") { TestDatabase::shared(sqlite.clone()) } else { url });
    for url in urls {
        let (a, name, mut row) = in_first_cycle(&url, "cache").await;
        let b = Store::open(&url).await.unwrap();
        let raw = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&url).await.unwrap();
        let p1 = if url.starts_with("postgres") { "$1" } else { "?" };
        let clear = || {
            let (raw, name) = (&raw, &name);
            async move {
                for table in ["oc_ingest_stage_workloads", "oc_ingest_stage_projects"] {
                    sqlx::query(&format!("DELETE FROM {table} WHERE provider = {p1}")).bind(name).execute(raw).await.unwrap();
                }
            }
        };
        let in_table = || {
            let (raw, name) = (&raw, &name);
            async move {
                let n: i64 = sqlx::query_scalar(&format!("SELECT COUNT(*) FROM oc_ingest_stage_workloads WHERE provider = {p1}"))
                    .bind(name)
                    .fetch_one(raw)
                    .await
                    .unwrap();
                n
            }
        };
        let workload = |ns: &str, component: &str, definition: &str| StagedWorkload {
            namespace: ns.into(),
            facts: WorkloadFacts { project: "p".into(), component: component.into(), ..Default::default() },
            apis: vec![endpoint_api(component, definition)],
        };
        let found = |store: &Store, ns: &'static str, component: &'static str| {
            let (store, name) = (store.clone(), name.clone());
            async move { store.staged_workloads(&name, ns, &[component.to_string()], true).await.unwrap().contains_key(component) }
        };
        let at = |ns: &str, n: i64| {
            Some(WalkCursor {
                phase: Phase::WORKLOADS,
                namespace: Some(ns.into()),
                ns_count: 5,
                cursor: Some(format!("page-{n}")),
                list_pages: n,
                ..Default::default()
            })
        };
        let holder = |store: &Store| {
            let (store, name) = (store.clone(), name.clone());
            async move { store.load_provider(&name).await.unwrap().staging_holder }
        };

        // A namespace's first page starts the copy: its workloads are held in memory only,
        // and the provider row names the holder; a burst that starts where it left keeps them.
        row.walk = at("ns", 1);
        let page = PageCommit {
            begins_namespace: Some("ns".into()),
            project_owners: vec![("ns".into(), "p".into(), Some("group:default/team".into()))],
            workloads: vec![workload("ns", "c1", "a")],
            ..Default::default()
        };
        a.commit_page(&row, &page, ("me", TTL)).await.unwrap();
        assert_eq!(in_table().await, 0, "{url}: held in memory only");
        assert!(holder(&a).await.is_some(), "{url}");
        clear().await;
        assert!(!a.staging_lost(&a.load_provider(&name).await.unwrap()), "{url}");
        let read = a.staged_workloads(&name, "ns", &["c1".into()], true).await.unwrap();
        assert_eq!(read["c1"].apis, page.workloads[0].apis, "{url}: from memory");
        let owners = a.staged_project_owners(&name, "ns", &["p".into()]).await.unwrap();
        assert_eq!(owners.get("p").and_then(|o| o.as_deref()), Some("group:default/team"), "{url}");

        // Another process takes over: the workloads it finds held elsewhere are lost to
        // it, so its walk goes back to the namespace's workloads list; what it stages then
        // is in the database, and the first store's copy no longer matches the walk.
        let mut theirs = b.load_provider(&name).await.unwrap();
        assert!(b.staging_lost(&theirs), "{url}: held by another store");
        b.rewind_lost_staging(&mut theirs, ("me", TTL)).await.unwrap();
        let rewound = theirs.walk.clone().unwrap();
        assert_eq!((rewound.phase, rewound.cursor.as_deref(), rewound.list_pages), (Phase::WORKLOADS, None, 0), "{url}");
        assert_eq!(rewound.namespace.as_deref(), Some("ns"), "{url}");
        assert_eq!(holder(&b).await, None, "{url}");
        theirs.walk = at("ns", 2);
        b.commit_page(&theirs, &PageCommit { workloads: vec![workload("ns", "c2", "b")], ..Default::default() }, ("me", TTL))
            .await
            .unwrap();
        assert!(!a.staging_lost(&a.load_provider(&name).await.unwrap()), "{url}: nothing is held in memory now");
        assert!(found(&a, "ns", "c2").await, "{url}: another process's row");
        assert!(!found(&a, "ns", "c1").await, "{url}: the copy is gone");

        // A failed commit (here: a lost lease) may or may not have been written: the copy
        // goes, and the workloads it held are lost.
        row.walk = at("ns2", 1);
        let page = PageCommit { begins_namespace: Some("ns2".into()), workloads: vec![workload("ns2", "c3", "c")], ..Default::default() };
        a.commit_page(&row, &page, ("me", TTL)).await.unwrap();
        let lost = a.commit_page(&row, &PageCommit { workloads: vec![workload("ns2", "c4", "d")], ..Default::default() }, ("other", TTL)).await;
        assert!(lost.is_err(), "{url}: the lease is someone else's");
        assert!(a.staging_lost(&a.load_provider(&name).await.unwrap()), "{url}: lost with the copy");
        assert!(!found(&a, "ns2", "c3").await, "{url}");

        // A namespace that outgrows the copy: what it held goes to the database with the
        // commit that outgrew it, and the database answers from then on.
        clear().await;
        row.walk = at("ns3", 1);
        let page = PageCommit { begins_namespace: Some("ns3".into()), workloads: vec![workload("ns3", "c7", "g")], ..Default::default() };
        a.commit_page(&row, &page, ("me", TTL)).await.unwrap();
        assert_eq!(in_table().await, 0, "{url}");
        let big = "x".repeat(9 << 20);
        row.walk = at("ns3", 2);
        // c7 again (an item repeated on the next page), with what it says now.
        let page = PageCommit { workloads: vec![workload("ns3", "c5", &big), workload("ns3", "c7", "h")], ..Default::default() };
        a.commit_page(&row, &page, ("me", TTL)).await.unwrap();
        assert_eq!(in_table().await, 2, "{url}: both rows written");
        let c7 = a.staged_workloads(&name, "ns3", &["c7".into()], true).await.unwrap();
        assert_eq!(c7["c7"].apis, page.workloads[1].apis, "{url}: the row as the later page staged it");
        assert_eq!(holder(&a).await, None, "{url}");
        assert!(found(&a, "ns3", "c5").await && found(&a, "ns3", "c7").await, "{url}");
        clear().await;
        assert!(!found(&a, "ns3", "c7").await, "{url}: read from the database");

        // A namespace's end drops its staging, in the database and in memory.
        row.walk = at("ns4", 1);
        let page = PageCommit { begins_namespace: Some("ns4".into()), workloads: vec![workload("ns4", "c6", "e")], ..Default::default() };
        a.commit_page(&row, &page, ("me", TTL)).await.unwrap();
        row.walk = at("ns4", 2);
        a.commit_page(&row, &PageCommit { drop_namespace_staging: Some("ns4".into()), ..Default::default() }, ("me", TTL)).await.unwrap();
        assert_eq!(holder(&a).await, None, "{url}");
        assert!(!found(&a, "ns4", "c6").await, "{url}: dropped with the namespace");
        assert!(a.staged_project_owners(&name, "ns4", &["p".into()]).await.unwrap().is_empty(), "{url}");

        // A graceful close writes what is held in memory, and the next process goes on.
        clear().await;
        row.walk = at("ns5", 1);
        let page = PageCommit { begins_namespace: Some("ns5".into()), workloads: vec![workload("ns5", "c8", "f")], ..Default::default() };
        a.commit_page(&row, &page, ("me", TTL)).await.unwrap();
        assert_eq!(in_table().await, 0, "{url}");
        a.release_staging(&name).await.unwrap();
        assert_eq!((in_table().await, holder(&a).await), (1, None), "{url}: written, and held by nobody");
        assert!(!b.staging_lost(&b.load_provider(&name).await.unwrap()), "{url}");
        assert!(found(&b, "ns5", "c8").await, "{url}");
    }
}

#[tokio::test]
async fn errors_never_show_database_passwords() {
    for url in ["postgres://app:hunter2@127.0.0.1:1/nope", "mysql://app:hunter2@127.0.0.1:1/nope", "mariadb://app:hunter2@127.0.0.1:1/nope"] {
        let err = match Store::open(url).await {
            Err(e) => e,
            Ok(_) => panic!("port 1 has no database server"),
        };
        let text = err.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(err.code.as_str(), "DATABASE");
    }
}
