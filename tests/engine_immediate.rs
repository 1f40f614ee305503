//! Single entities handed to the catalog at once, outside a cycle (the
//! `openchoreo.immediate-catalog` service): recorded so that the sweep of the cycle in
//! progress keeps them and the next cycle decides by what OpenChoreo has.

mod common;

use std::time::Duration;

use common::db::{database_urls, unique_provider};
use common::harness::*;
use mock_openchoreo::Kind;
use openchoreo_incremental::engine::Engine;
use serde_json::json;

/// What the scaffolder's insert does to the catalog: the entity is there at once.
fn insert_into_catalog(sink: &CatalogSink, r: &str) {
    sink.entities.lock().unwrap().insert(r.to_string(), json!({ "inserted": true }));
}

#[tokio::test]
async fn an_insert_during_a_cycle_survives_its_sweep_and_the_next_cycle_decides() {
    for db in database_urls().await {
        let mock = start_mock(InstallationSpec::small()).await;
        let h = mock.handle();
        let ns = h.namespaces()[0].clone();
        let mut cfg = config(&mock.url(), &db, &unique_provider("immediate"));
        // One page a burst: a cycle stays in progress between ticks.
        cfg.burst_length = Duration::from_nanos(1);
        let engine = Engine::open(cfg).await.unwrap();
        let sink = CatalogSink::default();
        run_cycle(&engine, &sink).await;
        let owned_before = engine.owned_count().await.unwrap();

        // Cycle 2 has started (its walk is past the namespaces list).
        let report = engine.tick(&sink).await.unwrap();
        assert_eq!((report.action.as_str(), report.cycle_completed), ("burst", false), "{db}");
        assert_eq!(engine.status().await.unwrap().cycle, 2);

        // A project created in OpenChoreo and inserted at once, and a component inserted
        // at once that OpenChoreo does not have (created, then deleted again): the walk
        // of cycle 2 may never see either.
        let mut project = h.get_item(Kind::Project, &ns, &h.list_names(Kind::Project, &ns).unwrap()[0]).unwrap().unwrap();
        project["metadata"]["name"] = json!("scaffolded-project");
        h.put_item(Kind::Project, &ns, project).unwrap();
        let kept = format!("system:{ns}/scaffolded-project");
        let gone = format!("component:{ns}/scaffolded-gone");
        for r in [&kept, &gone] {
            insert_into_catalog(&sink, r);
        }
        // Refs are stored as the catalog compares them: lower-cased, with a namespace.
        assert_eq!(engine.record_inserted(&kept.to_uppercase()).await.unwrap(), Some(kept.clone()), "{db}");
        assert_eq!(engine.record_inserted(&gone).await.unwrap(), Some(gone.clone()));
        assert_eq!(engine.record_inserted(&gone).await.unwrap(), Some(gone.clone()), "{db}: idempotent");
        assert_eq!(engine.owned_count().await.unwrap(), owned_before + 2, "{db}");

        // Cycle 2's sweep keeps both.
        let reports = run_cycle(&engine, &sink).await;
        assert_eq!(reports.last().unwrap().removed, 0, "{db}: {reports:?}");
        assert!(sink.get(&kept).is_some() && sink.get(&gone).is_some(), "{db}");

        // Cycle 3 agrees with OpenChoreo: the project stays, the component it lacks goes.
        let reports = run_cycle(&engine, &sink).await;
        assert_eq!(reports.last().unwrap().removed, 1, "{db}: {reports:?}");
        assert_eq!(sink.removals.lock().unwrap().clone(), vec![gone.clone()], "{db}");
        assert!(sink.get(&kept).is_some(), "{db}");
        assert_ne!(sink.get(&kept).unwrap(), json!({ "inserted": true }), "{db}: the cycle's own entity replaced it");
        assert_eq!(engine.owned_count().await.unwrap(), owned_before + 1, "{db}");
        engine.close().await;
    }
}

#[tokio::test]
async fn an_insert_between_cycles_and_a_removal_are_settled_by_the_next_cycle() {
    for db in database_urls().await {
        let mock = start_mock(InstallationSpec::small()).await;
        let h = mock.handle();
        let ns = h.namespaces()[0].clone();
        let engine = Engine::open(config(&mock.url(), &db, &unique_provider("immediate-rest"))).await.unwrap();
        let sink = CatalogSink::default();
        run_cycle(&engine, &sink).await;

        // Resting between cycles: an insert OpenChoreo does not have goes with the next cycle.
        let gone = format!("component:{ns}/never-created");
        insert_into_catalog(&sink, &gone);
        engine.record_inserted(&gone).await.unwrap();

        // A removal at once of an entity OpenChoreo still has: forgotten (no sweep removes
        // it again), and the next cycle adds it back.
        let removed = expected_refs(&h).into_iter().find(|r| r.starts_with("component:")).unwrap();
        sink.entities.lock().unwrap().remove(&removed);
        assert!(engine.forget_removed(&removed).await.unwrap(), "{db}");
        assert!(!engine.forget_removed(&removed).await.unwrap(), "{db}: no longer owned");

        let reports = run_cycle(&engine, &sink).await;
        assert_eq!(reports.last().unwrap().removed, 1, "{db}: {reports:?}");
        assert!(sink.get(&gone).is_none(), "{db}");
        assert!(sink.get(&removed).is_some(), "{db}: the cycle found it in OpenChoreo again");
        assert_eq!(sink.refs(), expected_refs(&h), "{db}");
        engine.close().await;
    }
}

#[tokio::test]
async fn refs_no_cycle_could_see_are_not_recorded() {
    let mock = start_mock(InstallationSpec::small()).await;
    let engine = Engine::open(config(&mock.url(), "sqlite::memory:", "immediate-foreign")).await.unwrap();
    for r in ["group:default/platform", "user:default/jane", "location:default/x", "not-a-ref", "component:", "component:a/b/c"] {
        assert_eq!(engine.record_inserted(r).await.unwrap(), None, "{r}");
        assert!(!engine.forget_removed(r).await.unwrap(), "{r}");
    }
    assert_eq!(engine.owned_count().await.unwrap(), 0);
    // A domain without a namespace is in `default`, as the catalog reads it.
    assert_eq!(engine.record_inserted("Domain:Team-A").await.unwrap().as_deref(), Some("domain:default/team-a"));
    engine.close().await;
    assert!(engine.record_inserted("component:default/x").await.is_err(), "a closed engine refuses");
}
