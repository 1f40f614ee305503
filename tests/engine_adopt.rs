//! Adoption of the legacy provider's entities: refs that another instance of the provider
//! left in the catalog are taken over before the first cycle, so the first completed
//! cycle removes the ones OpenChoreo no longer has, under the usual guards, and never
//! touches kinds this module does not produce.

mod common;

use std::collections::BTreeSet;

use common::db::{database_urls, unique_provider};
use common::harness::*;
use openchoreo_incremental::engine::Engine;
use serde_json::json;

/// Refs the legacy provider emitted for things that are gone from OpenChoreo, spelled as
/// the catalog may hand them back (mixed case, a domain without its namespace).
fn vanished(ns: &str) -> Vec<String> {
    vec![
        format!("Component:{ns}/Ghost-Component"),
        format!("system:{ns}/ghost-project"),
        format!("api:{ns}/ghost-project-ghost-component-http"),
        "Domain:ghost-namespace".to_string(),
    ]
}

/// Refs of kinds the legacy provider emitted that this module does not produce: never
/// adopted, so never removed.
fn foreign(ns: &str) -> Vec<String> {
    vec![
        "user:default/jane".to_string(),
        "group:default/platform".to_string(),
        "location:default/legacy".to_string(),
        format!("workload:{ns}/service"),
    ]
}

/// Strings that are not well-formed refs: ignored too.
fn malformed(ns: &str) -> Vec<String> {
    vec!["not-a-ref".to_string(), "component:".to_string(), format!("component:{ns}/a/b"), format!("api:{ns}/")]
}

fn lower(refs: &[String]) -> BTreeSet<String> {
    refs.iter().map(|r| r.to_lowercase()).collect()
}

/// The catalog as the legacy provider left it: the current entities, the vanished ones
/// and the foreign ones (catalog refs are compared lower-cased, with a namespace).
fn legacy_catalog(sink: &CatalogSink, refs: impl IntoIterator<Item = String>) {
    let mut entities = sink.entities.lock().unwrap();
    for r in refs {
        let r = r.to_lowercase();
        let r = match r.split_once(':') {
            Some((kind, rest)) if !rest.contains('/') && !rest.is_empty() => format!("{kind}:default/{rest}"),
            _ => r,
        };
        entities.insert(r, json!({ "legacy": true }));
    }
}

#[tokio::test]
async fn the_first_cycle_keeps_adopted_refs_the_source_has_and_removes_the_others() {
    for db in database_urls().await {
        let mock = start_mock(InstallationSpec::small()).await;
        let h = mock.handle();
        let ns = h.namespaces()[0].clone();
        let provider = unique_provider("adopt");
        let engine = Engine::open(config(&mock.url(), &db, &provider)).await.unwrap();
        let sink = CatalogSink::default();

        let current = expected_refs(&h);
        let vanished = vanished(&ns);
        let vanished_refs: BTreeSet<String> =
            ["component:{ns}/ghost-component", "system:{ns}/ghost-project", "api:{ns}/ghost-project-ghost-component-http"]
                .iter()
                .map(|r| r.replace("{ns}", &ns))
                .chain(["domain:default/ghost-namespace".to_string()])
                .collect();
        let foreign = foreign(&ns);
        legacy_catalog(&sink, current.iter().cloned().chain(vanished.iter().cloned()).chain(foreign.iter().cloned()));
        let mut legacy: Vec<String> = current.iter().cloned().collect();
        legacy.extend(vanished.iter().cloned());
        legacy.extend(foreign.iter().cloned());
        legacy.extend(malformed(&ns));

        // Adoption, page by page as the module does it; only the four kinds are taken.
        let (first, second) = legacy.split_at(legacy.len() / 2);
        let adopted = engine.adopt(first.to_vec()).await.unwrap() + engine.adopt(second.to_vec()).await.unwrap();
        assert_eq!(adopted as usize, current.len() + vanished.len(), "{db}");
        assert_eq!(engine.adopt(legacy.clone()).await.unwrap(), 0, "{db}: adoption is idempotent");
        assert_eq!(engine.owned_count().await.unwrap() as usize, current.len() + vanished.len());
        let status = engine.status().await.unwrap();
        assert_eq!((status.cycle, status.owned_entities as usize), (0, current.len() + vanished.len()));

        // The first cycle: the vanished refs go, the rest of the catalog stays.
        let reports = run_cycle(&engine, &sink).await;
        assert_eq!(reports.last().unwrap().removed as usize, vanished.len(), "{db}: {reports:?}");
        let removed = sink.removals.lock().unwrap().clone();
        assert_eq!(removed.len(), vanished.len(), "{db}: {removed:?}");
        assert_eq!(removed.into_iter().collect::<BTreeSet<_>>(), vanished_refs, "{db}: exactly the vanished refs are removed");
        let expected: BTreeSet<String> = current.union(&lower(&foreign)).cloned().collect();
        assert_eq!(sink.refs(), expected, "{db}");
        for r in &current {
            assert_ne!(sink.get(r).unwrap(), json!({ "legacy": true }), "{db}: {r} was updated in place by the cycle");
        }
        let status = engine.status().await.unwrap();
        assert_eq!(status.owned_entities as usize, current.len(), "{db}");
        assert!(status.rejected_removal.is_none(), "{db}: {:?}", status.rejected_removal);
        let last = status.last_completed_cycle.unwrap();
        assert_eq!((last.entities as usize, last.added, last.removed as usize), (current.len(), 0, vanished.len()), "{db}");

        // Later cycles own exactly what they see: nothing more is removed.
        let reports = run_cycle(&engine, &sink).await;
        assert_eq!(reports.last().unwrap().removed, 0);
        assert_eq!(sink.refs(), expected);
        engine.close().await;
    }
}

#[tokio::test]
async fn foreign_kinds_and_malformed_refs_are_never_adopted() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let ns = h.namespaces()[0].clone();
    let engine = Engine::open(config(&mock.url(), "sqlite::memory:", "adopt-foreign")).await.unwrap();
    assert_eq!(engine.adopt(foreign(&ns)).await.unwrap(), 0);
    assert_eq!(engine.adopt(malformed(&ns)).await.unwrap(), 0);
    assert_eq!(engine.adopt(vec![]).await.unwrap(), 0);
    assert_eq!(engine.owned_count().await.unwrap(), 0);
    // Duplicates (also by case) count once.
    let dup = vec![format!("component:{ns}/x"), format!("COMPONENT:{ns}/X"), format!("component:{ns}/x")];
    assert_eq!(engine.adopt(dup).await.unwrap(), 1);
    assert_eq!(engine.owned_count().await.unwrap(), 1);
    engine.close().await;
    assert!(engine.adopt(vec![format!("component:{ns}/y")]).await.is_err(), "a closed engine refuses");
}

#[tokio::test]
async fn adopted_refs_are_under_the_removal_percentage_guard() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let ns = h.namespaces()[0].clone();
    let mut cfg = config(&mock.url(), "sqlite::memory:", "adopt-threshold");
    cfg.reject_removals_above_percentage = Some(20.0);
    let engine = Engine::open(cfg).await.unwrap();
    let sink = CatalogSink::default();

    // Half as many vanished refs as there are current ones: 33% of the owned refs.
    let current = expected_refs(&h);
    let many: Vec<String> = (0..current.len() / 2).map(|i| format!("component:{ns}/gone-{i}")).collect();
    let mut legacy: Vec<String> = current.iter().cloned().collect();
    legacy.extend(many.iter().cloned());
    legacy_catalog(&sink, legacy.iter().cloned());
    assert_eq!(engine.adopt(legacy).await.unwrap() as usize, current.len() + many.len());

    let reports = run_cycle(&engine, &sink).await;
    assert_eq!(reports.last().unwrap().removed, 0);
    assert!(sink.removals.lock().unwrap().is_empty());
    let status = engine.status().await.unwrap();
    let rejected = status.rejected_removal.expect("the removal is refused");
    assert!(rejected.reason.contains("rejectRemovalsAbovePercentage = 20"), "{}", rejected.reason);
    assert_eq!((rejected.stale as usize, rejected.owned as usize), (many.len(), current.len() + many.len()));
    assert_eq!(status.owned_entities as usize, current.len() + many.len(), "refused refs stay owned, for the next cycle");
    assert!(lower(&many).is_subset(&sink.refs()));
}

#[tokio::test]
async fn adopted_refs_are_under_the_empty_source_guard() {
    let mock = start_mock(InstallationSpec::small()).await;
    let h = mock.handle();
    let engine = Engine::open(config(&mock.url(), "sqlite::memory:", "adopt-empty")).await.unwrap();
    let sink = CatalogSink::default();
    let legacy: Vec<String> = expected_refs(&h).into_iter().collect();
    legacy_catalog(&sink, legacy.iter().cloned());
    assert_eq!(engine.adopt(legacy.clone()).await.unwrap() as usize, legacy.len());

    // OpenChoreo answers with nothing during the first cycle: nothing of the legacy
    // catalog may go.
    h.update_faults(|f| f.empty_lists = true);
    let reports = run_cycle(&engine, &sink).await;
    assert_eq!(reports.last().unwrap().removed, 0);
    assert_eq!(sink.refs(), lower(&legacy));
    let status = engine.status().await.unwrap();
    let rejected = status.rejected_removal.expect("the removal is refused");
    assert!(rejected.reason.contains("rejectEmptySourceCollections"), "{}", rejected.reason);
    assert_eq!(status.owned_entities as usize, legacy.len());

    // When the source is back, every entity is still there and owned.
    h.update_faults(|f| f.empty_lists = false);
    run_cycle(&engine, &sink).await;
    assert_eq!(sink.refs(), lower(&legacy));
    let status = engine.status().await.unwrap();
    assert!(status.rejected_removal.is_none());
    assert_eq!(status.owned_entities as usize, legacy.len());
}
