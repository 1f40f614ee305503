//! Annotation and label keys of the platform kinds (`CHOREO_ANNOTATIONS` / `CHOREO_LABELS`
//! of the legacy `openchoreo-common/src/constants.ts`, and the literal keys written in
//! `entityTranslation.ts`).

pub use crate::translate::common::ann::{CREATED_AT, DELETION_TIMESTAMP, NAMESPACE, PROJECT, STATUS};
pub use crate::translate::common::{API_VERSION, MANAGED_BY_LOCATION, MANAGED_BY_ORIGIN_LOCATION, MANAGED_LABEL};

/// Read from the OpenChoreo resource.
pub const DISPLAY_NAME: &str = "openchoreo.dev/display-name";
pub const DESCRIPTION: &str = "openchoreo.dev/description";
pub const WORKFLOW_TYPE_LABEL: &str = "openchoreo.dev/workflow-type";

pub const ENVIRONMENT: &str = "openchoreo.io/environment";
pub const ENVIRONMENT_UID: &str = "openchoreo.io/environment-uid";
pub const DATA_PLANE_REF: &str = "openchoreo.io/data-plane-ref";
pub const DATA_PLANE_REF_KIND: &str = "openchoreo.io/data-plane-ref-kind";
pub const DNS_PREFIX: &str = "openchoreo.io/dns-prefix";
pub const IS_PRODUCTION: &str = "openchoreo.io/is-production";
pub const OBSERVABILITY_PLANE_REF: &str = "openchoreo.io/observability-plane-ref";
pub const OBSERVER_URL: &str = "openchoreo.io/observer-url";
pub const AGENT_CONNECTED: &str = "openchoreo.io/agent-connected";
pub const AGENT_CONNECTED_COUNT: &str = "openchoreo.io/agent-connected-count";
pub const AGENT_LAST_CONNECTED: &str = "openchoreo.io/agent-last-connected";
/// `openchoreo.dev/`, not `openchoreo.io/`, as the legacy constant has it.
pub const WORKFLOW_PARAMETERS: &str = "openchoreo.dev/component-workflow-parameters";
pub const WORKFLOW_PLANE_REF: &str = "openchoreo.io/workflow-plane-ref";
pub const WORKFLOW_PLANE_REF_KIND: &str = "openchoreo.io/workflow-plane-ref-kind";
pub const RESOURCE: &str = "openchoreo.io/resource";
pub const RESOURCE_UID: &str = "openchoreo.io/resource-uid";
pub const RESOURCE_TYPE: &str = "openchoreo.io/resource-type";
pub const RESOURCE_TYPE_KIND: &str = "openchoreo.io/resource-type-kind";

/// Labels.
pub const ENVIRONMENT_TYPE_LABEL: &str = "openchoreo.io/environment-type";

/// The namespace cluster-scoped kinds land in.
pub const CLUSTER_NAMESPACE: &str = "openchoreo-cluster";
