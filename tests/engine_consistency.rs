//! The catalog consistency check's state (the module pages the catalog's listing into
//! it; `__test__/consistency.test.ts` runs it against a damaged real catalog): which
//! owned refs the listing lacks, their heal marks, and when a heal ends.

mod common;

use std::collections::BTreeSet;

use common::db::{database_urls, unique_provider};
use common::harness::*;
use openchoreo_incremental::engine::Engine;

#[tokio::test]
async fn a_check_finds_unlisted_refs_marks_them_and_a_later_check_ends_the_heal() {
    for db in database_urls().await {
        let mock = start_mock(InstallationSpec::small()).await;
        let h = mock.handle();
        let engine = Engine::open(config(&mock.url(), &db, &unique_provider("consistency"))).await.unwrap();
        let sink = CatalogSink::default();
        run_cycle(&engine, &sink).await;
        let owned: Vec<String> = expected_refs(&h).into_iter().collect();
        assert!(owned.len() > 10, "{db}");

        // The catalog lists all but three, spelled as it hands them back, plus one ref
        // the engine does not own (yet).
        let missing: BTreeSet<String> = owned.iter().step_by(owned.len() / 3).take(3).cloned().collect();
        let listed: Vec<String> = owned.iter().filter(|r| !missing.contains(*r)).map(|r| r.to_uppercase()).collect();
        let check = engine.begin_consistency_check().unwrap();
        let (a, b) = listed.split_at(listed.len() / 2);
        let mut listed_owned = engine.consistency_listed(check, a.to_vec()).await.unwrap();
        listed_owned += engine.consistency_listed(check, [b.to_vec(), vec!["component:x/not-ours".into()]].concat()).await.unwrap();
        assert_eq!(listed_owned as usize, listed.len(), "{db}");
        let report = engine.finish_consistency_check(check, listed.len() as i64 + 1, listed_owned as i64, true).await.unwrap();
        assert_eq!((report.unlisted, report.heal_marked, report.healed), (3, 3, 0), "{db}: {report:?}");
        assert_eq!(report.unlisted_sample.iter().cloned().collect::<BTreeSet<_>>(), missing, "{db}");
        assert_eq!(report.settled_cycle, 1, "{db}");

        let heals = engine.heal_refs(100).await.unwrap();
        assert_eq!(heals.iter().map(|(r, _)| r.clone()).collect::<BTreeSet<_>>(), missing, "{db}");
        assert!(heals.iter().all(|(_, c)| *c == check), "{db}: the mark names its check");
        let status = engine.status().await.unwrap();
        assert_eq!((status.heal_pending, status.consistency.as_ref()), (3, Some(&report)), "{db}");

        // The listed ref the engine did not own (a hand-over whose commit a kill lost) is
        // adopted, and the next completed cycle removes it: the source does not have it.
        assert_eq!(engine.owned_count().await.unwrap() as usize, owned.len() + 1, "{db}: adopted");
        // Cycles do not end a heal (the catalog may not have processed the change yet).
        run_cycle(&engine, &sink).await;
        assert_eq!(engine.status().await.unwrap().heal_pending, 3, "{db}");
        assert_eq!(engine.owned_count().await.unwrap() as usize, owned.len(), "{db}: swept");
        assert!(sink.removals.lock().unwrap().contains(&"component:x/not-ours".to_string()), "{db}: removed from the catalog");

        // A later check that lists them ends it; one that still misses a ref marks it
        // again, with the new check.
        let still: String = missing.iter().next().unwrap().clone();
        let check2 = engine.begin_consistency_check().unwrap().max(check + 1);
        let all_but_one: Vec<String> = owned.iter().filter(|r| **r != still).cloned().collect();
        let n = engine.consistency_listed(check2, all_but_one.clone()).await.unwrap();
        let report2 = engine.finish_consistency_check(check2, n as i64, n as i64, true).await.unwrap();
        assert_eq!((report2.unlisted, report2.heal_marked, report2.healed), (1, 1, 2), "{db}: {report2:?}");
        assert_eq!(engine.heal_refs(100).await.unwrap(), vec![(still.clone(), check2)], "{db}");

        // heal=false only reports.
        let check3 = engine.begin_consistency_check().unwrap().max(check2 + 1);
        let report3 = engine.finish_consistency_check(check3, 0, 0, false).await.unwrap();
        assert_eq!((report3.unlisted as usize, report3.heal_marked), (owned.len(), 0), "{db}");
        assert_eq!(engine.status().await.unwrap().heal_pending, 1, "{db}");
        engine.close().await;
    }
}

#[tokio::test]
async fn refs_first_seen_after_the_last_completed_cycle_are_not_checked() {
    let mock = start_mock(InstallationSpec::small()).await;
    let mut cfg = config(&mock.url(), "sqlite::memory:", "consistency-settled");
    cfg.burst_length = std::time::Duration::from_millis(1);
    let engine = Engine::open(cfg).await.unwrap();
    // Adopted refs count as seen in cycle 0; nothing has completed a cycle yet.
    assert_eq!(engine.adopt(vec!["component:ns/a".into(), "system:ns/b".into()]).await.unwrap(), 2);
    let sink = CatalogSink::default();
    // One short burst of the first cycle: refs first seen in cycle 1, not settled.
    let r = engine.tick(&sink).await.unwrap();
    assert_eq!((r.action.as_str(), r.cycle_completed), ("burst", false), "{r:?}");
    assert!(engine.owned_count().await.unwrap() > 2);
    let check = engine.begin_consistency_check().unwrap();
    let report = engine.finish_consistency_check(check, 0, 0, true).await.unwrap();
    assert_eq!((report.settled_cycle, report.unlisted, report.heal_marked), (0, 2, 2), "{report:?}");
    engine.close().await;
}
