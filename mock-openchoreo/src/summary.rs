//! Exact counts of what the mock currently serves, for computing expected results.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

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
}

impl Summary {
    pub(crate) fn from_namespaces(by_namespace: BTreeMap<String, Counts>) -> Summary {
        let mut s = Summary {
            namespaces: by_namespace.len(),
            ..Summary::default()
        };
        for c in by_namespace.values() {
            s.projects += c.projects;
            s.components += c.components;
            s.workloads += c.workloads;
            s.endpoints += c.endpoints;
            s.endpoints_with_schema += c.endpoints_with_schema;
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
}
