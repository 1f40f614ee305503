//! Exact counts of what the mock currently serves, for computing expected results.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::kind::Kind;

/// Counts inside one namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub projects: usize,
    pub components: usize,
    pub workloads: usize,
    /// Entries of `spec.endpoints` over all workloads.
    pub endpoints: usize,
    /// Endpoints whose `schema.content` is a non-empty string (the ones that become APIs).
    pub endpoints_with_schema: usize,
    /// Items of each served namespaced platform kind (environments, ...), keyed by plural.
    #[serde(default)]
    pub kinds: BTreeMap<Kind, usize>,
}

/// Counts of the installation as stored (faults such as `dropShare` don't change it).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub namespaces: usize,
    pub projects: usize,
    pub components: usize,
    pub workloads: usize,
    pub endpoints: usize,
    pub endpoints_with_schema: usize,
    pub by_namespace: BTreeMap<String, Counts>,
    /// Items of each served platform kind: namespaced ones over all namespaces, plus
    /// the cluster kinds. Unserved kinds are absent.
    #[serde(default)]
    pub kinds: BTreeMap<Kind, usize>,
}

impl Summary {
    pub(crate) fn from_namespaces(
        by_namespace: BTreeMap<String, Counts>,
        cluster: BTreeMap<Kind, usize>,
    ) -> Summary {
        let mut s = Summary {
            namespaces: by_namespace.len(),
            kinds: cluster,
            ..Summary::default()
        };
        for c in by_namespace.values() {
            s.projects += c.projects;
            s.components += c.components;
            s.workloads += c.workloads;
            s.endpoints += c.endpoints;
            s.endpoints_with_schema += c.endpoints_with_schema;
            for (k, n) in &c.kinds {
                *s.kinds.entry(*k).or_default() += n;
            }
        }
        s.by_namespace = by_namespace;
        s
    }

    /// Fewest `/api/v1` calls that list every namespace, and every namespace's projects,
    /// components and workloads, at page size `limit` (clamped to 1..=100 as the server
    /// does). An empty list still costs one call; a full last page needs no extra call.
    pub fn min_list_calls(&self, limit: usize) -> u64 {
        let limit = limit.clamp(1, 100);
        let pages = |n: usize| n.div_ceil(limit).max(1) as u64;
        pages(self.namespaces)
            + self
                .by_namespace
                .values()
                .map(|c| pages(c.projects) + pages(c.components) + pages(c.workloads))
                .sum::<u64>()
    }

    /// Items of one kind currently served (all namespaces, or the cluster).
    pub fn count(&self, kind: Kind) -> usize {
        match kind {
            Kind::Project => self.projects,
            Kind::Component => self.components,
            Kind::Workload => self.workloads,
            _ => self.kinds.get(&kind).copied().unwrap_or(0),
        }
    }

    /// Like [`Summary::min_list_calls`], over every served list: namespaces, each
    /// namespace's projects, components, workloads and served namespaced platform
    /// lists, and each served cluster list once. No `/schema` calls, no 404s.
    pub fn min_list_calls_all(&self, limit: usize) -> u64 {
        let limit = limit.clamp(1, 100);
        let pages = |n: usize| n.div_ceil(limit).max(1) as u64;
        let cluster: u64 = self
            .kinds
            .iter()
            .filter(|(k, _)| k.is_cluster())
            .map(|(_, n)| pages(*n))
            .sum();
        let namespaced: u64 = self
            .by_namespace
            .values()
            .map(|c| c.kinds.values().map(|n| pages(*n)).sum::<u64>())
            .sum();
        self.min_list_calls(limit) + namespaced + cluster
    }
}
