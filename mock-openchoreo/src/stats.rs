//! Request counters for `/api/v1` (faulty answers included), so tests can assert how
//! many calls a walk made.

use std::collections::BTreeMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::faults::Outcome;
use crate::kind::Kind;

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    /// All `/api/v1` requests.
    pub requests: u64,
    /// Per request path, without query string.
    pub by_path: BTreeMap<String, u64>,
    /// Per list: `namespaces` and every kind's plural (always present), and
    /// `<plural>/schema` for the schema routes. Single-item GETs are not counted here.
    pub by_list: BTreeMap<String, u64>,
    /// Injected faults by outcome: `cut`, `error`, `rateLimit`, `html`, `malformed`.
    pub faults: BTreeMap<String, u64>,
    /// Candidate items the list handlers examined: shows paging costs O(page), not O(N).
    pub items_scanned: u64,
}

impl Stats {
    fn empty() -> Stats {
        let zeros = |keys: &[&str]| keys.iter().map(|k| (k.to_string(), 0)).collect();
        let lists = std::iter::once("namespaces".to_owned())
            .chain(Kind::ALL.iter().map(|k| k.plural().to_owned()))
            .chain(
                Kind::ALL
                    .iter()
                    .filter(|k| k.has_schema())
                    .map(|k| format!("{}/schema", k.plural())),
            )
            .map(|k| (k, 0))
            .collect();
        Stats {
            by_list: lists,
            faults: zeros(&["cut", "error", "rateLimit", "html", "malformed"]),
            ..Stats::default()
        }
    }

    /// Requests made to one list kind.
    pub fn list(&self, kind: &str) -> u64 {
        self.by_list.get(kind).copied().unwrap_or(0)
    }
}

pub(crate) struct Recorder(Mutex<Stats>);

impl Recorder {
    pub fn new() -> Recorder {
        Recorder(Mutex::new(Stats::empty()))
    }

    pub fn request(&self, path: &str) {
        let mut s = self.0.lock().unwrap();
        s.requests += 1;
        *s.by_path.entry(path.to_owned()).or_default() += 1;
        if let Some(list) = list_of(path) {
            *s.by_list.entry(list).or_default() += 1;
        }
    }

    pub fn fault(&self, outcome: Outcome) {
        let key = match outcome {
            Outcome::Pass => return,
            Outcome::Cut { .. } => "cut",
            Outcome::Error(_) => "error",
            Outcome::RateLimited => "rateLimit",
            Outcome::Html => "html",
            Outcome::Malformed => "malformed",
        };
        *self
            .0
            .lock()
            .unwrap()
            .faults
            .entry(key.to_owned())
            .or_default() += 1;
    }

    pub fn scanned(&self, n: u64) {
        self.0.lock().unwrap().items_scanned += n;
    }

    pub fn snapshot(&self) -> Stats {
        self.0.lock().unwrap().clone()
    }

    pub fn reset(&self) {
        *self.0.lock().unwrap() = Stats::empty();
    }
}

/// `/api/v1/namespaces` -> namespaces, `/api/v1/namespaces/x/components` -> components,
/// `/api/v1/clustertraits` -> clustertraits, `.../componenttypes/y/schema` ->
/// componenttypes/schema.
fn list_of(path: &str) -> Option<String> {
    let segs: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    let kind = |seg: &str, cluster: bool| Kind::from_plural(seg).filter(|k| k.is_cluster() == cluster);
    let schema = |k: Kind| k.has_schema().then(|| format!("{}/schema", k.plural()));
    match segs.as_slice() {
        ["", "api", "v1", "namespaces"] => Some("namespaces".into()),
        ["", "api", "v1", "namespaces", _, seg] => kind(seg, false).map(|k| k.plural().into()),
        ["", "api", "v1", "namespaces", _, seg, _, "schema"] => kind(seg, false).and_then(schema),
        ["", "api", "v1", seg] => kind(seg, true).map(|k| k.plural().into()),
        ["", "api", "v1", seg, _, "schema"] => kind(seg, true).and_then(schema),
        _ => None,
    }
}
