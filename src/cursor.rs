//! Where the walk stands: a small [`WalkCursor`], persisted with every page's commit,
//! bounded whatever the installation's size. The walk moves it; the store persists it;
//! neither owns it.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::kinds::{ListKind, Scope, LISTS};

/// The list being walked: an index into [`LISTS`], or done. Persisted as the list's name
/// (`"projects"`, `"clustertraits"`, `"done"`), so a cursor written by an earlier
/// version, which knew four lists, still reads.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Phase(u8);

impl Phase {
    pub const NAMESPACES: Phase = Phase(0);
    pub const PROJECTS: Phase = Phase(13);
    pub const WORKLOADS: Phase = Phase(14);
    pub const COMPONENTS: Phase = Phase(15);
    pub const DONE: Phase = Phase(LISTS.len() as u8);

    pub fn index(self) -> usize {
        self.0 as usize
    }

    /// The list, unless the walk is done.
    pub fn list(self) -> Option<&'static ListKind> {
        LISTS.get(self.index())
    }

    pub fn as_str(self) -> &'static str {
        self.list().map_or("done", |k| k.list)
    }

    pub fn is_namespaced(self) -> bool {
        self.list().is_some_and(|k| k.scope == Scope::Namespaced)
    }

    pub fn parse(name: &str) -> Option<Phase> {
        if name == "done" {
            return Some(Phase::DONE);
        }
        crate::kinds::by_name(name).map(|i| Phase(i as u8))
    }

    /// The first namespaced list (a namespace's walk starts there).
    pub fn first_namespaced() -> Phase {
        Phase(LISTS.iter().position(|k| k.scope == Scope::Namespaced).expect("namespaced lists") as u8)
    }

    /// The first list after the namespaced ones (the cluster lists), or done.
    fn after_namespaces() -> Phase {
        let last = LISTS.iter().rposition(|k| k.scope == Scope::Namespaced).expect("namespaced lists");
        Phase(last as u8 + 1)
    }

    /// The next list of the same kind of scope, skipping `unserved` ones; `None` past the
    /// last namespaced list (the next namespace's walk decides what follows).
    fn next_in_run(self, unserved: &[String]) -> Option<Phase> {
        let namespaced = self.is_namespaced();
        let mut p = Phase(self.0 + 1);
        loop {
            match p.list() {
                None => return Some(Phase::DONE),
                Some(k) if namespaced && k.scope != Scope::Namespaced => return None,
                Some(k) if unserved.iter().any(|u| u == k.list) => p = Phase(p.0 + 1),
                Some(_) => return Some(p),
            }
        }
    }

    /// The first list of `from` on that is served.
    fn first_served(mut self, unserved: &[String]) -> Phase {
        while let Some(k) = self.list() {
            if !unserved.iter().any(|u| u == k.list) {
                break;
            }
            self = Phase(self.0 + 1);
        }
        self
    }
}

impl Default for Phase {
    fn default() -> Self {
        Phase::NAMESPACES
    }
}

impl fmt::Debug for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Phase {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Phase {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Phase, D::Error> {
        let name = String::deserialize(d)?;
        Phase::parse(&name).ok_or_else(|| serde::de::Error::custom(format!("unknown walk phase {name:?}")))
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WalkCursor {
    pub phase: Phase,
    /// 0-based position of the current namespace in the cycle's namespace order.
    pub ns_index: i64,
    /// Namespaces found so far (all of them once the namespaces phase is over).
    pub ns_count: i64,
    /// The current namespace's name, once looked up.
    pub namespace: Option<String>,
    /// The API cursor of the next page of the current list (`None`: its first page).
    pub cursor: Option<String>,
    /// Pages and items of the current list fetched so far.
    pub list_pages: i64,
    pub list_items: i64,
    /// After a restart, the items the list had reached before: a burst does not stop
    /// until it is past them, so a cursor that expires between bursts cannot stall it.
    pub catch_up_to: Option<i64>,
    pub list_restarts: i64,
    /// Upper bound on pages per list, against servers that never stop paging.
    #[serde(default)]
    pub max_pages_per_list: Option<i64>,
    /// Lists the server answered 404 for although the namespace exists (an older
    /// OpenChoreo without that kind): not requested again this cycle, and their kinds'
    /// entities are not removed at its end.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unserved: Vec<String>,
}

impl WalkCursor {
    /// Whether a burst may stop after reaching this position.
    pub fn may_pause(&self) -> bool {
        self.catch_up_to.is_none_or(|c| self.list_items > c)
    }

    /// Whether the walk may pause after the page at this position, given its item count.
    pub fn may_pause_after(&self, items: usize) -> bool {
        self.catch_up_to.is_none_or(|c| self.list_items + items as i64 > c)
    }

    /// The first page of `phase`, in the same namespace.
    pub fn next_list(&self, phase: Phase) -> WalkCursor {
        WalkCursor {
            phase,
            ns_index: self.ns_index,
            ns_count: self.ns_count,
            namespace: if phase.is_namespaced() { self.namespace.clone() } else { None },
            max_pages_per_list: self.max_pages_per_list,
            unserved: self.unserved.clone(),
            ..Default::default()
        }
    }

    /// The first page of the next namespace's walk, or of the cluster lists after the
    /// last namespace (its name is looked up when it is walked).
    pub fn next_namespace(&self) -> WalkCursor {
        let mut next = self.next_list(Phase::first_namespaced().first_served(&self.unserved));
        next.ns_index += 1;
        next.namespace = None;
        if next.ns_index >= next.ns_count {
            next.phase = Phase::after_namespaces().first_served(&self.unserved);
        }
        next
    }

    /// The walk after the namespaces list: the first namespace, or the cluster lists when
    /// there is none.
    pub fn after_namespaces_list(&self, ns_count: i64) -> WalkCursor {
        let mut next = self.next_list(Phase::first_namespaced().first_served(&self.unserved));
        next.ns_count = ns_count;
        next.ns_index = 0;
        next.namespace = None;
        if ns_count == 0 {
            next.phase = Phase::after_namespaces().first_served(&self.unserved);
        }
        next
    }

    /// The first page of the list after this one: in the same namespace, or among the
    /// cluster lists. `None` after a namespace's last list (see [`Self::next_namespace`])
    /// and after the namespaces list (see [`Self::after_namespaces_list`]).
    pub fn following_list(&self) -> Option<WalkCursor> {
        if self.phase == Phase::NAMESPACES {
            return None;
        }
        self.phase.next_in_run(&self.unserved).map(|p| self.next_list(p))
    }

    /// Whether the position needs its namespace's name looked up before it is walked.
    pub fn needs_namespace(&self) -> bool {
        self.phase.is_namespaced() && self.namespace.is_none()
    }

    /// The list's path below `/api/v1`; for a namespaced list, once its namespace is known.
    pub fn list_path(&self) -> Option<String> {
        let kind = self.phase.list()?;
        match kind.scope {
            Scope::Cluster => Some(format!("/{}", kind.list)),
            Scope::Namespaced => Some(format!("/namespaces/{}/{}", segment(self.namespace.as_deref()?), kind.list)),
        }
    }
}

/// Percent-encodes a path segment (names are Kubernetes names; this is a safety net).
pub fn segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn walk_all(ns_count: i64, unserved: &[&str]) -> Vec<(i64, &'static str)> {
        let unserved: Vec<String> = unserved.iter().map(|s| s.to_string()).collect();
        let start = WalkCursor { unserved, ..Default::default() };
        let mut out = vec![(-1, start.phase.as_str())];
        let mut cur = start.after_namespaces_list(ns_count);
        while cur.phase != Phase::DONE {
            out.push((if cur.phase.is_namespaced() { cur.ns_index } else { -1 }, cur.phase.as_str()));
            cur = match cur.following_list() {
                Some(next) => next,
                None => cur.next_namespace(),
            };
        }
        out
    }

    #[test]
    fn the_walk_visits_every_list_once_per_namespace_then_the_cluster_lists() {
        let visited = walk_all(2, &[]);
        let namespaced = LISTS.iter().filter(|k| k.scope == Scope::Namespaced).count();
        let cluster = LISTS.len() - namespaced - 1;
        assert_eq!(visited.len(), 1 + 2 * namespaced + cluster);
        assert_eq!(visited[1], (0, "environments"));
        assert_eq!(visited[namespaced], (0, "components"));
        assert_eq!(visited[namespaced + 1], (1, "environments"));
        assert_eq!(visited[2 * namespaced + 1], (-1, "clustercomponenttypes"));
        assert_eq!(visited.last(), Some(&(-1, "clusterworkflowplanes")));
    }

    #[test]
    fn no_namespace_goes_straight_to_the_cluster_lists_and_unserved_lists_are_skipped() {
        let visited = walk_all(0, &["clustercomponenttypes", "clusterworkflowplanes", "environments"]);
        assert_eq!(visited[1], (-1, "clusterresourcetypes"));
        assert_eq!(visited.last(), Some(&(-1, "clusterobservabilityplanes")));
        assert!(walk_all(1, &["environments"]).iter().all(|(_, l)| *l != "environments"));
    }

    #[test]
    fn a_cursor_of_an_earlier_version_reads() {
        let old = r#"{"phase":"workloads","nsIndex":1,"nsCount":3,"namespace":"a","cursor":null,"listPages":0,"listItems":0,"catchUpTo":null,"listRestarts":0}"#;
        let cur: WalkCursor = serde_json::from_str(old).unwrap();
        assert_eq!(cur.phase, Phase::WORKLOADS);
        assert!(serde_json::from_str::<WalkCursor>(&old.replace("workloads", "gizmos")).is_err());
        assert_eq!(serde_json::to_value(Phase::DONE).unwrap(), "done");
    }
}
