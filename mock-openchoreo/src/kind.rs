//! The namespaced resource kinds the mock serves.

use serde::{Deserialize, Serialize};

/// A namespaced list the mock serves (namespaces themselves have their own methods).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Project,
    Component,
    Workload,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Project, Kind::Component, Kind::Workload];

    /// The path segment and stats key: `projects`, `components`, `workloads`.
    pub fn plural(self) -> &'static str {
        match self {
            Kind::Project => "projects",
            Kind::Component => "components",
            Kind::Workload => "workloads",
        }
    }

    /// Accepts the plural path segment or the singular name.
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "projects" | "project" => Some(Kind::Project),
            "components" | "component" => Some(Kind::Component),
            "workloads" | "workload" => Some(Kind::Workload),
            _ => None,
        }
    }

    /// The Kubernetes `kind` of an item.
    pub fn api_kind(self) -> &'static str {
        match self {
            Kind::Project => "Project",
            Kind::Component => "Component",
            Kind::Workload => "Workload",
        }
    }
}
