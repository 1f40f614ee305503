//! Scenario "process killed mid-burst": the `oc-ingest` runner (the engine in a process
//! of its own, with a catalog that is an fsynced journal of mutations) is SIGKILLed in
//! the middle of bursts, at different points, and restarted on the same state database
//! (a SQLite file; a MariaDB/MySQL database of the test's own). Replaying the journal must give exactly the source, and each kill may repeat
//! only the last pages before it (at most `MAX_UNCOMMITTED_PAGES`): those in the catalog
//! but not yet committed, or, when the kill took along the namespace's staged workloads
//! held in memory, that namespace's components pages so far (5 here).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::db::{mysql_available, unique_provider};
use common::pgtemp::TempDatabase;
use common::harness::*;
use mock_openchoreo::Kind;
use openchoreo_incremental::engine::{Engine, MAX_UNCOMMITTED_PAGES};
use openchoreo_incremental::translate::entity_ref;
use serde_json::Value;

/// One journal line: the refs a mutation added and removed.
#[derive(Debug, Clone, PartialEq)]
struct Line {
    added: BTreeSet<String>,
    removed: BTreeSet<String>,
}

/// The complete lines of the journal (a line without its newline was never acknowledged).
fn read_journal(path: &Path) -> Vec<Line> {
    let mut tail = JournalTail::default();
    tail.poll(path);
    tail.lines
}

/// The journal's complete lines, each parsed once: `kill_when` polls every 2 ms, and
/// parsing the whole journal each time (about 1 MB by cycle 2, in a debug build) took
/// longer than the 80 ms window a kill must land in.
#[derive(Default)]
struct JournalTail {
    /// Bytes of complete lines parsed so far.
    offset: usize,
    lines: Vec<Line>,
}

impl JournalTail {
    fn poll(&mut self, path: &Path) -> &[Line] {
        let bytes = std::fs::read(path).unwrap_or_default();
        if let Some(last) = bytes.get(self.offset..).and_then(|rest| rest.iter().rposition(|b| *b == b'\n')) {
            let end = self.offset + last + 1;
            let text = std::str::from_utf8(&bytes[self.offset..end]).expect("the journal is UTF-8");
            self.lines.extend(text.lines().map(parse_line));
            self.offset = end;
        }
        &self.lines
    }
}

fn parse_line(l: &str) -> Line {
    let v: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("journal line is not JSON ({e}): {l:.200}"));
    assert_eq!(v["type"], "delta");
    Line {
        added: v["added"].as_array().unwrap().iter().map(|a| entity_ref(&a["entity"])).collect(),
        removed: v["removed"].as_array().unwrap().iter().map(|r| r["entityRef"].as_str().unwrap().to_string()).collect(),
    }
}

fn count_lines(path: &Path) -> usize {
    std::fs::read(path).map(|b| b.iter().filter(|c| **c == b'\n').count()).unwrap_or(0)
}

/// Replays the journal into a catalog.
fn replay(lines: &[Line]) -> BTreeSet<String> {
    let mut catalog = BTreeSet::new();
    for l in lines {
        catalog.extend(l.added.iter().cloned());
        for r in &l.removed {
            catalog.remove(r);
        }
    }
    catalog
}

struct Runner {
    mock_url: String,
    database: String,
    journal: PathBuf,
    log: PathBuf,
    provider: String,
}

impl Runner {
    fn spawn(&self, until_cycles: Option<i64>) -> Child {
        let log = OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_oc-ingest"));
        cmd.args(["--base-url", &self.mock_url, "--database", &self.database, "--provider", &self.provider])
            .args(["--journal", self.journal.to_str().unwrap()])
            .args(["--chunk-size", "5", "--burst-length-ms", "300", "--lease-ttl-ms", "1500"])
            // A slow catalog: most of a burst is spent inside the sink, before the line
            // is written and after it is durable (before the engine commits the page).
            .args(["--sink-delay-before-ms", "40", "--sink-delay-ms", "80", "--tick-ms", "20"])
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        if let Some(n) = until_cycles {
            cmd.args(["--until-cycles", &n.to_string()]);
        }
        cmd.spawn().expect("spawning oc-ingest")
    }

    /// Waits until the journal has `lines` complete lines (or one matching `line_is`),
    /// waits `after`, SIGKILLs the runner, and returns the complete lines left.
    async fn kill_when(
        &self,
        child: &mut Child,
        what: &str,
        ready: impl Fn(&[Line]) -> bool,
        after: Duration,
    ) -> usize {
        let t0 = Instant::now();
        let mut journal = JournalTail::default();
        loop {
            if ready(journal.poll(&self.journal)) {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!("oc-ingest exited ({status}) before {what}; log: {}", self.log_tail());
            }
            assert!(t0.elapsed() < Duration::from_secs(60), "{what} never happened; log: {}", self.log_tail());
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        tokio::time::sleep(after).await;
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        count_lines(&self.journal)
    }

    async fn run_to_exit(&self, child: &mut Child) {
        let t0 = Instant::now();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                assert!(status.success(), "oc-ingest failed ({status}); log: {}", self.log_tail());
                return;
            }
            if t0.elapsed() > Duration::from_secs(120) {
                let _ = child.kill();
                panic!("oc-ingest did not finish; log: {}", self.log_tail());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.lines().rev().take(15).collect::<Vec<_>>().into_iter().rev().collect::<Vec<_>>().join("\n")
    }
}

/// Checks one cycle's lines: every added ref appears once, except that a kill may have
/// repeated the uncommitted window before it: the first `n` lines after the restart then
/// equal the last `n` lines before the kill (`n` at most `MAX_UNCOMMITTED_PAGES`);
/// removals likewise. Returns how many kills repeated pages.
fn check_cycle(
    cycle: &str,
    lines: &[Line],
    restarts: &[usize],
    expected: &BTreeSet<String>,
    removed: &BTreeSet<String>,
) -> usize {
    let mut allowed: BTreeMap<(bool, String), usize> = BTreeMap::new();
    let mut repeated = 0;
    for &k in restarts {
        if k == 0 || k >= lines.len() {
            continue;
        }
        let longest = MAX_UNCOMMITTED_PAGES.min(k).min(lines.len() - k);
        let window = (1..=longest).rev().find(|&n| lines[k..k + n] == lines[k - n..k]).unwrap_or(0);
        if window > 0 {
            repeated += 1;
            for line in &lines[k..k + window] {
                for r in &line.added {
                    *allowed.entry((true, r.clone())).or_insert(1) += 1;
                }
                for r in &line.removed {
                    *allowed.entry((false, r.clone())).or_insert(1) += 1;
                }
            }
        } else {
            let first_after = &lines[k];
            let earlier: BTreeSet<&String> = lines[..k].iter().flat_map(|l| l.added.iter().chain(&l.removed)).collect();
            let again: Vec<&String> =
                first_after.added.iter().chain(&first_after.removed).filter(|r| earlier.contains(r)).collect();
            assert!(
                again.is_empty(),
                "{cycle}: the first mutation after restart at line {k} repeats part of an earlier one: {again:?}"
            );
        }
    }
    let mut counts: BTreeMap<(bool, String), usize> = BTreeMap::new();
    for l in lines {
        for r in &l.added {
            *counts.entry((true, r.clone())).or_default() += 1;
        }
        for r in &l.removed {
            *counts.entry((false, r.clone())).or_default() += 1;
        }
    }
    for ((added, r), n) in &counts {
        let allowed_n = allowed.get(&(*added, r.clone())).copied().unwrap_or(1);
        assert_eq!(*n, allowed_n, "{cycle}: {} {r} {n} times", if *added { "added" } else { "removed" });
    }
    let added: BTreeSet<String> = lines.iter().flat_map(|l| l.added.iter().cloned()).collect();
    assert_eq!(&added, expected, "{cycle}: the cycle applied every entity of the source");
    let gone: BTreeSet<String> = lines.iter().flat_map(|l| l.removed.iter().cloned()).collect();
    assert_eq!(&gone, removed, "{cycle}: removals");
    // Removals come last: nothing is removed before the cycle has seen everything.
    if let Some(first_removal) = lines.iter().position(|l| !l.removed.is_empty()) {
        assert!(
            lines[first_removal..].iter().all(|l| l.added.is_empty()),
            "{cycle}: a removal before the walk finished"
        );
    }
    repeated
}

/// One scenario at a time: each kill must land in an 80 ms window after a journal line is
/// durable, and two scenarios' runners at once (the test harness runs tests in parallel)
/// starve the watcher of the CPU it needs to kill in time.
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_mid_burst_loses_nothing_and_repeats_only_uncommitted_pages() {
    let _one = ONE_AT_A_TIME.lock().await;
    let dir = std::env::temp_dir().join(unique_provider("oc-kill"));
    std::fs::create_dir_all(&dir).unwrap();
    killed_mid_burst(&dir, format!("sqlite://{}", dir.join("state.sqlite").display())).await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_process_killed_mid_burst_on_mysql_loses_nothing_and_repeats_only_uncommitted_pages() {
    let _one = ONE_AT_A_TIME.lock().await;
    if !mysql_available().await {
        return;
    }
    let db = TempDatabase::create_mysql("kill").await;
    let dir = std::env::temp_dir().join(unique_provider("oc-kill-mysql"));
    std::fs::create_dir_all(&dir).unwrap();
    killed_mid_burst(&dir, db.url.clone()).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Runs the scenario with its journal and log in `dir`, its state in `database`.
async fn killed_mid_burst(dir: &Path, database: String) {
    let mock = start_mock(InstallationSpec {
        namespaces: 3,
        projects_per_namespace: 3,
        components_per_project: 8,
        ..InstallationSpec::small()
    })
    .await;
    let h = mock.handle();
    let runner = Runner {
        mock_url: mock.url(),
        database,
        journal: dir.join("journal.ndjson"),
        log: dir.join("runner.log"),
        provider: "killed".into(),
    };
    let cycle1_expected = expected_refs(&h);

    // Cycle 1, killed three times: right after a line is durable (inside the window
    // before its commit), and once a little later (inside the next page's fetch/sink).
    let mut restarts1 = Vec::new();
    for (at, after) in [(2usize, Duration::ZERO), (9, Duration::from_millis(100)), (16, Duration::ZERO)] {
        let mut child = runner.spawn(None);
        let what = format!("journal line {at}");
        let left = runner.kill_when(&mut child, &what, |l| l.len() >= at, after).await;
        restarts1.push(left);
    }
    let mut child = runner.spawn(Some(1));
    runner.run_to_exit(&mut child).await;
    let c1 = count_lines(&runner.journal);

    // Cycle 2, after deletions in the source: killed mid-walk, and again just after the
    // removal reached the catalog (before the engine recorded it).
    let ns = h.namespaces()[0].clone();
    let comp = h.list_names(Kind::Component, &ns).unwrap()[5].clone();
    h.delete_item(Kind::Component, &ns, &comp).unwrap();
    h.delete_item(Kind::Workload, &ns, &format!("{comp}-workload")).unwrap();
    h.delete_namespace(&h.namespaces()[2].clone());
    let cycle2_expected = expected_refs(&h);
    let deleted: BTreeSet<String> = cycle1_expected.difference(&cycle2_expected).cloned().collect();
    assert!(!deleted.is_empty());

    let mut restarts2 = Vec::new();
    let mut child = runner.spawn(None);
    restarts2.push(runner.kill_when(&mut child, "a mid-cycle line", |l| l.len() >= c1 + 6, Duration::ZERO).await - c1);
    let mut child = runner.spawn(None);
    let removal = |l: &[Line]| l[c1..].iter().any(|l| !l.removed.is_empty());
    restarts2.push(runner.kill_when(&mut child, "the removal", removal, Duration::ZERO).await - c1);
    let mut child = runner.spawn(Some(2));
    runner.run_to_exit(&mut child).await;

    let lines = read_journal(&runner.journal);
    let repeated1 = check_cycle("cycle 1", &lines[..c1], &restarts1, &cycle1_expected, &BTreeSet::new());
    let repeated2 = check_cycle("cycle 2", &lines[c1..], &restarts2, &cycle2_expected, &deleted);
    eprintln!(
        "kill ({}): {} journal lines; cycle 1 killed at {restarts1:?} ({repeated1} page(s) repeated), cycle 2 at {restarts2:?} ({repeated2} repeated)",
        runner.database.split(':').next().unwrap_or(""),
        lines.len()
    );
    // The replayed catalog is the source, exactly.
    assert_eq!(replay(&lines), cycle2_expected);
    // The kills right after a durable line landed before that page's commit.
    assert!(repeated1 >= 1 && repeated2 >= 1, "the kills hit the window between the catalog and the commit");

    // The state file agrees: cycle 2 complete, every entity owned, no burst left over.
    let engine = Engine::open(config(&mock.url(), &runner.database, "killed")).await.unwrap();
    let status = engine.status().await.unwrap();
    assert_eq!(status.last_completed_cycle.as_ref().unwrap().cycle, 2);
    assert_eq!(status.owned_entities as usize, cycle2_expected.len());
    engine.close().await;
}
