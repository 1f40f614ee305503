//! Whole entities, one test per item: each `expected` was produced by running the legacy
//! module's `translateNew*ToEntity` (openchoreo/backstage-plugins at 6ccea2a4, transpiled
//! as is) on the same item with the provider's context (`OpenChoreoEntityProvider`, owner
//! `group:default/openchoreo-users`, walked namespace `acme` unless the test says another).
//! Those marked "ported" re-state the legacy module's own unit tests as whole entities.

use serde_json::json;

use super::translate;
use crate::translate::platform::*;

/// Production, a cluster data plane ref, both gateway sides, ready, being deleted.
#[test]
fn environment_with_everything() {
    let item = json!({
        "metadata": {
            "annotations": {
                "openchoreo.dev/description": "Live traffic",
                "openchoreo.dev/display-name": "Production"
            },
            "creationTimestamp": "2026-05-14T10:00:00Z",
            "deletionTimestamp": "2026-05-15T00:00:00Z",
            "name": "prod",
            "namespace": "acme",
            "uid": "env-uid"
        },
        "spec": {
            "dataPlaneRef": {"kind": "ClusterDataPlane", "name": "default"},
            "gateway": {
                "ingress": {
                    "external": {
                        "http": {"host": "prod.example.com", "port": 80},
                        "https": {"host": "prod.example.com", "port": 443},
                        "name": "gw",
                        "namespace": "gw-ns"
                    },
                    "internal": {
                        "http": {"host": "prod.internal", "port": 8080},
                        "name": "igw",
                        "namespace": "igw-ns"
                    }
                }
            },
            "isProduction": true
        },
        "status": {"conditions": [{"reason": "Ok", "status": "True", "type": "Ready"}]}
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Environment",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "2026-05-14T10:00:00Z",
                "openchoreo.io/data-plane-ref": "default",
                "openchoreo.io/data-plane-ref-kind": "ClusterDataPlane",
                "openchoreo.io/deletion-timestamp": "2026-05-15T00:00:00Z",
                "openchoreo.io/dns-prefix": "prod.example.com",
                "openchoreo.io/environment": "prod",
                "openchoreo.io/environment-uid": "env-uid",
                "openchoreo.io/is-production": "true",
                "openchoreo.io/namespace": "acme",
                "openchoreo.io/status": "Ready"
            },
            "description": "Live traffic",
            "labels": {"openchoreo.io/environment-type": "production", "openchoreo.io/managed": "true"},
            "name": "prod",
            "namespace": "acme",
            "tags": ["openchoreo", "environment", "production"],
            "title": "Production"
        },
        "spec": {
            "dataPlaneRef": "default",
            "dnsPrefix": "prod.example.com",
            "domain": "default/acme",
            "gateway": {
                "ingress": {
                    "external": {
                        "http": {"host": "prod.example.com", "port": 80},
                        "https": {"host": "prod.example.com", "port": 443},
                        "name": "gw",
                        "namespace": "gw-ns"
                    },
                    "internal": {
                        "http": {"host": "prod.internal", "port": 8080},
                        "name": "igw",
                        "namespace": "igw-ns"
                    }
                }
            },
            "isProduction": true,
            "type": "production"
        }
    });
    assert_eq!(translate(environment, Some("acme"), item), expected);
}

/// No isProduction: no is-production annotation or environment-type label, `non-production` type, no gateway.
#[test]
fn environment_without_optional_fields() {
    let item = json!({"metadata": {"name": "dev"}, "spec": {}});
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Environment",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/environment": "dev",
                "openchoreo.io/namespace": "acme",
                "openchoreo.io/status": "Not Ready"
            },
            "description": "dev environment",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "dev",
            "namespace": "acme",
            "tags": ["openchoreo", "environment", "non-production"],
            "title": "dev"
        },
        "spec": {"domain": "default/acme", "type": "non-production"}
    });
    assert_eq!(translate(environment, Some("acme"), item), expected);
}

/// A null host is kept as null (and gives no dns-prefix); an empty side is an empty object; a data plane ref without a name gives only its kind.
#[test]
fn environment_keeps_null_host_and_empty_sides() {
    let item = json!({
        "metadata": {
            "annotations": {"openchoreo.dev/description": "", "openchoreo.dev/display-name": ""},
            "name": "stg"
        },
        "spec": {
            "dataPlaneRef": {"kind": "DataPlane"},
            "gateway": {"ingress": {"external": {"http": {"host": null, "port": 80}}, "internal": {}}},
            "isProduction": false
        }
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Environment",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/data-plane-ref-kind": "DataPlane",
                "openchoreo.io/environment": "stg",
                "openchoreo.io/is-production": "false",
                "openchoreo.io/namespace": "acme",
                "openchoreo.io/status": "Not Ready"
            },
            "description": "stg environment",
            "labels": {"openchoreo.io/environment-type": "non-production", "openchoreo.io/managed": "true"},
            "name": "stg",
            "namespace": "acme",
            "tags": ["openchoreo", "environment", "non-production"],
            "title": "stg"
        },
        "spec": {
            "dnsPrefix": null,
            "domain": "default/acme",
            "gateway": {"ingress": {"external": {"http": {"host": null, "port": 80}}, "internal": {}}},
            "isProduction": false,
            "type": "non-production"
        }
    });
    assert_eq!(translate(environment, Some("acme"), item), expected);
}

/// Ported from the legacy "emits an email channel entity scoped to its namespace".
#[test]
fn notification_channel_email() {
    let item = json!({
        "metadata": {"creationTimestamp": "2026-05-14T10:00:00Z", "name": "dev-email"},
        "spec": {
            "emailConfig": {
                "from": "alerts@example.com",
                "smtp": {
                    "auth": {
                        "password": {"secretKeyRef": {"key": "pass", "name": "smtp-auth"}},
                        "username": {"secretKeyRef": {"key": "user", "name": "smtp-auth"}}
                    },
                    "host": "smtp.example.com",
                    "port": 587,
                    "tls": {"insecureSkipVerify": false}
                },
                "template": {"body": "Body", "subject": "Alert"},
                "to": ["team@example.com"]
            },
            "environment": "dev",
            "isEnvDefault": true,
            "type": "email"
        }
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ObservabilityAlertsNotificationChannel",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "2026-05-14T10:00:00Z",
                "openchoreo.io/namespace": "acme"
            },
            "description": "dev-email notification channel",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "dev-email",
            "namespace": "acme",
            "tags": ["openchoreo", "notification-channel", "email"],
            "title": "dev-email"
        },
        "spec": {
            "emailConfig": {
                "from": "alerts@example.com",
                "smtp": {
                    "auth": {
                        "password": {"secretKeyRef": {"key": "pass", "name": "smtp-auth"}},
                        "username": {"secretKeyRef": {"key": "user", "name": "smtp-auth"}}
                    },
                    "host": "smtp.example.com",
                    "port": 587,
                    "tls": {"insecureSkipVerify": false}
                },
                "template": {"body": "Body", "subject": "Alert"},
                "to": ["team@example.com"]
            },
            "environment": "dev",
            "isEnvDefault": true,
            "type": "email"
        }
    });
    assert_eq!(translate(notification_channel, Some("acme"), item), expected);
}

/// Ported from the legacy "unwraps the typed-client shape" (webhook, display name, no isEnvDefault).
#[test]
fn notification_channel_webhook() {
    let item = json!({
        "metadata": {
            "annotations": {"openchoreo.dev/display-name": "Dev Webhook"},
            "creationTimestamp": "2026-05-14T10:00:00Z",
            "name": "dev-webhook",
            "namespace": "analytics"
        },
        "spec": {
            "environment": "dev",
            "type": "webhook",
            "webhookConfig": {"url": "https://hooks.example.com"}
        }
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ObservabilityAlertsNotificationChannel",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "2026-05-14T10:00:00Z",
                "openchoreo.io/namespace": "analytics"
            },
            "description": "dev-webhook notification channel",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "dev-webhook",
            "namespace": "analytics",
            "tags": ["openchoreo", "notification-channel", "webhook"],
            "title": "Dev Webhook"
        },
        "spec": {
            "environment": "dev",
            "type": "webhook",
            "webhookConfig": {"url": "https://hooks.example.com"}
        }
    });
    assert_eq!(translate(notification_channel, Some("analytics"), item), expected);
}

/// A null environment becomes `''` (`?? ''`), a null isEnvDefault stays null, an empty emailConfig is kept.
#[test]
fn notification_channel_null_environment() {
    let item = json!({
        "metadata": {"name": "ch"},
        "spec": {
            "emailConfig": {},
            "environment": null,
            "isEnvDefault": null,
            "type": "email",
            "webhookConfig": null
        }
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ObservabilityAlertsNotificationChannel",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/namespace": "acme"
            },
            "description": "ch notification channel",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "ch",
            "namespace": "acme",
            "tags": ["openchoreo", "notification-channel", "email"],
            "title": "ch"
        },
        "spec": {"emailConfig": {}, "environment": "", "isEnvDefault": null, "type": "email"}
    });
    assert_eq!(translate(notification_channel, Some("acme"), item), expected);
}

/// The ref's kind is ignored: a ClusterObservabilityPlane ref is qualified with the namespace like any other.
#[test]
fn dataplane_with_cluster_observability_ref() {
    let item = json!({
        "metadata": {
            "annotations": {"openchoreo.dev/description": "", "openchoreo.dev/display-name": "Data Plane"},
            "creationTimestamp": "2026-05-14T10:00:00Z",
            "name": "dp"
        },
        "spec": {
            "gateway": {
                "ingress": {
                    "external": {
                        "https": {"host": "apps.example.com", "port": 443},
                        "name": "gw",
                        "namespace": "gw-ns"
                    }
                }
            },
            "observabilityPlaneRef": {"kind": "ClusterObservabilityPlane", "name": "default"}
        },
        "status": {
            "agentConnection": {"connected": true, "connectedAgents": 2, "lastConnectedTime": "2026-05-14T10:00:00Z"},
            "conditions": [{"status": "False", "type": "Ready"}, {"status": "True", "type": "Created"}]
        }
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Dataplane",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/agent-connected": "true",
                "openchoreo.io/agent-connected-count": "2",
                "openchoreo.io/agent-last-connected": "2026-05-14T10:00:00Z",
                "openchoreo.io/created-at": "2026-05-14T10:00:00Z",
                "openchoreo.io/namespace": "acme",
                "openchoreo.io/observability-plane-ref": "acme/default",
                "openchoreo.io/status": "Ready"
            },
            "description": "dp dataplane",
            "labels": {"openchoreo.io/dataplane": "true", "openchoreo.io/managed": "true"},
            "name": "dp",
            "namespace": "acme",
            "tags": ["openchoreo", "dataplane", "infrastructure"],
            "title": "Data Plane"
        },
        "spec": {
            "domain": "default/acme",
            "gateway": {
                "ingress": {
                    "external": {
                        "https": {"host": "apps.example.com", "port": 443},
                        "name": "gw",
                        "namespace": "gw-ns"
                    }
                }
            },
            "observabilityPlaneRef": "acme/default"
        }
    });
    assert_eq!(translate(dataplane, Some("acme"), item), expected);
}

/// Without a ref the annotation and spec field are `''`; created-at is `''`; no gateway; agent annotations defaulted for an empty agentConnection.
#[test]
fn dataplane_minimal() {
    let item = json!({"metadata": {"name": "dp"}, "status": {"agentConnection": {}}});
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Dataplane",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/agent-connected": "false",
                "openchoreo.io/agent-connected-count": "0",
                "openchoreo.io/created-at": "",
                "openchoreo.io/namespace": "acme",
                "openchoreo.io/observability-plane-ref": "",
                "openchoreo.io/status": "Not Ready"
            },
            "description": "dp dataplane",
            "labels": {"openchoreo.io/dataplane": "true", "openchoreo.io/managed": "true"},
            "name": "dp",
            "namespace": "acme",
            "tags": ["openchoreo", "dataplane", "infrastructure"],
            "title": "dp"
        },
        "spec": {"domain": "default/acme", "observabilityPlaneRef": ""}
    });
    assert_eq!(translate(dataplane, Some("acme"), item), expected);
}

/// A ref name holding a `/` is kept as it is.
#[test]
fn workflow_plane_with_qualified_ref() {
    let item = json!({
        "metadata": {"creationTimestamp": "2026-05-14T10:00:00Z", "name": "wp"},
        "spec": {"observabilityPlaneRef": {"name": "shared/obs"}},
        "status": {"agentConnection": {"connected": false, "connectedAgents": 0}}
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "WorkflowPlane",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/agent-connected": "false",
                "openchoreo.io/agent-connected-count": "0",
                "openchoreo.io/created-at": "2026-05-14T10:00:00Z",
                "openchoreo.io/namespace": "acme",
                "openchoreo.io/observability-plane-ref": "shared/obs",
                "openchoreo.io/status": "Not Ready"
            },
            "description": "wp workflow plane",
            "labels": {"openchoreo.io/managed": "true", "openchoreo.io/workflowplane": "true"},
            "name": "wp",
            "namespace": "acme",
            "tags": ["openchoreo", "workflowplane", "infrastructure"],
            "title": "wp"
        },
        "spec": {"domain": "default/acme", "observabilityPlaneRef": "shared/obs"}
    });
    assert_eq!(translate(workflow_plane, Some("acme"), item), expected);
}

#[test]
fn observability_plane_with_observer() {
    let item = json!({
        "metadata": {"creationTimestamp": "2026-05-14T10:00:00Z", "name": "obs"},
        "spec": {"observerURL": "http://observer.openchoreo:8080"},
        "status": {
            "conditions": [{"status": "False", "type": "Ready"}, {"status": "True", "type": "Created"}]
        }
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ObservabilityPlane",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "2026-05-14T10:00:00Z",
                "openchoreo.io/namespace": "acme",
                "openchoreo.io/observer-url": "http://observer.openchoreo:8080",
                "openchoreo.io/status": "Ready"
            },
            "description": "obs observability plane",
            "labels": {"openchoreo.io/managed": "true", "openchoreo.io/observabilityplane": "true"},
            "name": "obs",
            "namespace": "acme",
            "tags": ["openchoreo", "observabilityplane", "infrastructure"],
            "title": "obs"
        },
        "spec": {"domain": "default/acme", "observerURL": "http://observer.openchoreo:8080"}
    });
    assert_eq!(translate(observability_plane, Some("acme"), item), expected);
}

/// A null observerURL: no annotation, null in the spec.
#[test]
fn observability_plane_with_null_observer() {
    let item = json!({"metadata": {"name": "obs"}, "spec": {"observerURL": null}});
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ObservabilityPlane",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "",
                "openchoreo.io/namespace": "acme",
                "openchoreo.io/status": "Not Ready"
            },
            "description": "obs observability plane",
            "labels": {"openchoreo.io/managed": "true", "openchoreo.io/observabilityplane": "true"},
            "name": "obs",
            "namespace": "acme",
            "tags": ["openchoreo", "observabilityplane", "infrastructure"],
            "title": "obs"
        },
        "spec": {"domain": "default/acme", "observerURL": null}
    });
    assert_eq!(translate(observability_plane, Some("acme"), item), expected);
}

/// Object and string source refs, a missing one (`''`), target fields other than `name` dropped, missing targets `[]`.
#[test]
fn deployment_pipeline_paths() {
    let item = json!({
        "metadata": {"creationTimestamp": "2026-05-14T10:00:00Z", "name": "default"},
        "spec": {
            "promotionPaths": [
                {
                    "sourceEnvironmentRef": {"name": "development"},
                    "targetEnvironmentRefs": [
                        {"name": "staging", "requiresApproval": true},
                        {"isManualApprovalRequired": false, "name": "qa"}
                    ]
                },
                {
                    "sourceEnvironmentRef": "staging",
                    "targetEnvironmentRefs": [{"name": "production"}]
                },
                {"targetEnvironmentRefs": [{}]},
                {"sourceEnvironmentRef": {"kind": "Environment"}}
            ]
        },
        "status": {"conditions": [{"reason": "Ok", "status": "True", "type": "Ready"}]}
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "DeploymentPipeline",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "2026-05-14T10:00:00Z",
                "openchoreo.io/namespace": "acme",
                "openchoreo.io/status": "Ready"
            },
            "description": "Deployment pipeline default",
            "labels": {"openchoreo.io/deployment-pipeline": "true", "openchoreo.io/managed": "true"},
            "name": "default",
            "namespace": "acme",
            "tags": ["openchoreo", "deployment-pipeline", "platform-engineering"],
            "title": "default"
        },
        "spec": {
            "domain": "default/acme",
            "namespaceName": "acme",
            "promotionPaths": [
                {
                    "sourceEnvironment": "development",
                    "targetEnvironments": [{"name": "staging"}, {"name": "qa"}]
                },
                {"sourceEnvironment": "staging", "targetEnvironments": [{"name": "production"}]},
                {"sourceEnvironment": "", "targetEnvironments": [{}]},
                {"sourceEnvironment": "", "targetEnvironments": []}
            ]
        }
    });
    assert_eq!(translate(deployment_pipeline, Some("acme"), item), expected);
}

/// No paths: `[]`; no created-at annotation without a timestamp.
#[test]
fn deployment_pipeline_without_paths() {
    let item = json!({"metadata": {"name": "empty"}, "spec": {}});
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "DeploymentPipeline",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/namespace": "acme",
                "openchoreo.io/status": "Not Ready"
            },
            "description": "Deployment pipeline empty",
            "labels": {"openchoreo.io/deployment-pipeline": "true", "openchoreo.io/managed": "true"},
            "name": "empty",
            "namespace": "acme",
            "tags": ["openchoreo", "deployment-pipeline", "platform-engineering"],
            "title": "empty"
        },
        "spec": {"domain": "default/acme", "namespaceName": "acme", "promotionPaths": []}
    });
    assert_eq!(translate(deployment_pipeline, Some("acme"), item), expected);
}

/// Kind-prefixed strings split when the kind is known, other strings and objects defaulted, nameless entries dropped.
#[test]
fn component_type_allowed_refs() {
    let item = json!({
        "metadata": {
            "annotations": {
                "openchoreo.dev/description": "HTTP services",
                "openchoreo.dev/display-name": "Service"
            },
            "creationTimestamp": "2026-05-14T10:00:00Z",
            "name": "service"
        },
        "spec": {
            "allowedTraits": [
                "Trait:t",
                "ClusterTrait:ct",
                "Workflow:w",
                {"name": "o"},
                {"kind": "ClusterTrait", "name": "c"},
                {"name": ""}
            ],
            "allowedWorkflows": [
                "Workflow:docker",
                "ClusterWorkflow:gcp:buildpacks",
                "Bad:x",
                "plain",
                "Workflow:",
                "",
                {"name": "obj"},
                {"kind": "ClusterWorkflow", "name": "cw"},
                {"kind": null, "name": "nk"},
                {},
                null
            ],
            "workloadType": "deployment"
        }
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ComponentType",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "2026-05-14T10:00:00Z",
                "openchoreo.io/namespace": "acme"
            },
            "description": "HTTP services",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "service",
            "namespace": "acme",
            "tags": ["openchoreo", "component-type", "deployment", "platform-engineering"],
            "title": "Service"
        },
        "spec": {
            "allowedTraits": [
                {"kind": "Trait", "name": "t"},
                {"kind": "ClusterTrait", "name": "ct"},
                {"kind": "Trait", "name": "Workflow:w"},
                {"kind": "Trait", "name": "o"},
                {"kind": "ClusterTrait", "name": "c"}
            ],
            "allowedWorkflows": [
                {"kind": "Workflow", "name": "docker"},
                {"kind": "ClusterWorkflow", "name": "gcp:buildpacks"},
                {"kind": "Workflow", "name": "Bad:x"},
                {"kind": "Workflow", "name": "plain"},
                {"kind": "Workflow", "name": "obj"},
                {"kind": "ClusterWorkflow", "name": "cw"},
                {"kind": "Workflow", "name": "nk"}
            ],
            "domain": "default/acme",
            "workloadType": "deployment"
        }
    });
    assert_eq!(translate(component_type, Some("acme"), item), expected);
}

/// No workload type: no tag, no spec field; absent lists stay absent, an empty one is `[]`.
#[test]
fn component_type_without_workload_type_or_lists() {
    let item = json!({"metadata": {"name": "bare"}, "spec": {"allowedTraits": []}});
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ComponentType",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "",
                "openchoreo.io/namespace": "acme"
            },
            "description": "bare component type",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "bare",
            "namespace": "acme",
            "tags": ["openchoreo", "component-type", "platform-engineering"],
            "title": "bare"
        },
        "spec": {"allowedTraits": [], "domain": "default/acme"}
    });
    assert_eq!(translate(component_type, Some("acme"), item), expected);
}

/// A null workload type is no tag but stays null in the spec.
#[test]
fn component_type_null_workload_type() {
    let item = json!({"metadata": {"name": "nulls"}, "spec": {"allowedWorkflows": null, "workloadType": null}});
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ComponentType",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "",
                "openchoreo.io/namespace": "acme"
            },
            "description": "nulls component type",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "nulls",
            "namespace": "acme",
            "tags": ["openchoreo", "component-type", "platform-engineering"],
            "title": "nulls"
        },
        "spec": {"domain": "default/acme", "workloadType": null}
    });
    assert_eq!(translate(component_type, Some("acme"), item), expected);
}

#[test]
fn trait_type_minimal() {
    let item = json!({"metadata": {"name": "autoscaler"}});
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "TraitType",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "",
                "openchoreo.io/namespace": "acme"
            },
            "description": "autoscaler trait",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "autoscaler",
            "namespace": "acme",
            "tags": ["openchoreo", "trait-type", "platform-engineering"],
            "title": "autoscaler"
        },
        "spec": {"domain": "default/acme"}
    });
    assert_eq!(translate(trait_type, Some("acme"), item), expected);
}

#[test]
fn trait_type_described() {
    let item = json!({
        "metadata": {
            "annotations": {
                "openchoreo.dev/description": "Adds an ingress",
                "openchoreo.dev/display-name": "Ingress"
            },
            "creationTimestamp": "2026-05-14T10:00:00Z",
            "deletionTimestamp": "2026-05-14T10:00:00Z",
            "name": "ingress"
        }
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "TraitType",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "2026-05-14T10:00:00Z",
                "openchoreo.io/deletion-timestamp": "2026-05-14T10:00:00Z",
                "openchoreo.io/namespace": "acme"
            },
            "description": "Adds an ingress",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "ingress",
            "namespace": "acme",
            "tags": ["openchoreo", "trait-type", "platform-engineering"],
            "title": "Ingress"
        },
        "spec": {"domain": "default/acme"}
    });
    assert_eq!(translate(trait_type, Some("acme"), item), expected);
}

/// Ported from the legacy "translateNewResourceTypeToEntity unwraps the typed-client shape".
#[test]
fn resource_type_ported() {
    let item = json!({
        "apiVersion": "openchoreo.dev/v1alpha1",
        "kind": "ResourceType",
        "metadata": {
            "annotations": {
                "openchoreo.dev/description": "Managed MySQL template",
                "openchoreo.dev/display-name": "MySQL"
            },
            "creationTimestamp": "2026-05-14T10:00:00Z",
            "name": "mysql",
            "namespace": "analytics"
        },
        "spec": {"resources": [], "retainPolicy": "Retain"}
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ResourceType",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "2026-05-14T10:00:00Z",
                "openchoreo.io/namespace": "analytics"
            },
            "description": "Managed MySQL template",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "mysql",
            "namespace": "analytics",
            "tags": ["openchoreo", "resource-type", "platform-engineering"],
            "title": "MySQL"
        },
        "spec": {"domain": "default/analytics", "retainPolicy": "Retain"}
    });
    assert_eq!(translate(resource_type, Some("analytics"), item), expected);
}

/// Ported from the legacy "defaults retainPolicy to Delete when absent" and "falls back to name".
#[test]
fn resource_type_defaults_retain_policy() {
    let item = json!({"metadata": {"name": "queue"}});
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ResourceType",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "",
                "openchoreo.io/namespace": "acme"
            },
            "description": "queue resource type",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "queue",
            "namespace": "acme",
            "tags": ["openchoreo", "resource-type", "platform-engineering"],
            "title": "queue"
        },
        "spec": {"domain": "default/acme", "retainPolicy": "Delete"}
    });
    assert_eq!(translate(resource_type, Some("acme"), item), expected);
}

/// Ported from the legacy "translateNewProjectTypeToEntity unwraps the typed-client shape".
#[test]
fn project_type_ported() {
    let item = json!({
        "apiVersion": "openchoreo.dev/v1alpha1",
        "kind": "ProjectType",
        "metadata": {
            "annotations": {"openchoreo.dev/display-name": "Standard Project"},
            "creationTimestamp": "2026-06-14T10:00:00Z",
            "name": "standard-project",
            "namespace": "default-org"
        },
        "spec": {"resources": []}
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ProjectType",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "2026-06-14T10:00:00Z",
                "openchoreo.io/namespace": "default-org"
            },
            "description": "standard-project project type",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "standard-project",
            "namespace": "default-org",
            "tags": ["openchoreo", "project-type", "platform-engineering"],
            "title": "Standard Project"
        },
        "spec": {"domain": "default/default-org"}
    });
    assert_eq!(translate(project_type, Some("default-org"), item), expected);
}

/// Ported from the legacy "translateNewResourceToEntity unwraps the typed-client ResourceInstance".
#[test]
fn resource_ported() {
    let item = json!({
        "apiVersion": "openchoreo.dev/v1alpha1",
        "kind": "Resource",
        "metadata": {
            "annotations": {
                "openchoreo.dev/description": "Primary analytics database",
                "openchoreo.dev/display-name": "Analytics DB"
            },
            "creationTimestamp": "2026-05-15T10:00:00Z",
            "name": "analytics-db",
            "namespace": "finance",
            "uid": "res-uid-1"
        },
        "spec": {"owner": {"projectName": "analytics"}, "type": {"kind": "ResourceType", "name": "mysql"}}
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Resource",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "2026-05-15T10:00:00Z",
                "openchoreo.io/namespace": "finance",
                "openchoreo.io/project": "analytics",
                "openchoreo.io/resource": "analytics-db",
                "openchoreo.io/resource-type": "mysql",
                "openchoreo.io/resource-type-kind": "ResourceType",
                "openchoreo.io/resource-uid": "res-uid-1"
            },
            "description": "Primary analytics database",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "analytics-db",
            "namespace": "finance",
            "tags": ["openchoreo", "resource", "mysql"],
            "title": "Analytics DB"
        },
        "spec": {"owner": "group:default/openchoreo-users", "system": "analytics", "type": "mysql"}
    });
    assert_eq!(translate(resource, Some("finance"), item), expected);
}

/// Ported from the legacy "propagates ClusterResourceType kind" and "passes spec.parameters"; no status annotation, ever.
#[test]
fn resource_cluster_type_with_parameters() {
    let item = json!({
        "metadata": {
            "deletionTimestamp": "2026-05-14T10:00:00Z",
            "name": "shared-cache",
            "namespace": "finance"
        },
        "spec": {
            "owner": {"projectName": "analytics"},
            "parameters": {"replicas": 2, "size": "small"},
            "type": {"kind": "ClusterResourceType", "name": "redis"}
        },
        "status": {"conditions": [{"reason": "Ok", "status": "True", "type": "Ready"}]}
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Resource",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "",
                "openchoreo.io/deletion-timestamp": "2026-05-14T10:00:00Z",
                "openchoreo.io/namespace": "finance",
                "openchoreo.io/project": "analytics",
                "openchoreo.io/resource": "shared-cache",
                "openchoreo.io/resource-type": "redis",
                "openchoreo.io/resource-type-kind": "ClusterResourceType"
            },
            "description": "shared-cache resource",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "shared-cache",
            "namespace": "finance",
            "tags": ["openchoreo", "resource", "redis"],
            "title": "shared-cache"
        },
        "spec": {
            "owner": "group:default/openchoreo-users",
            "parameters": {"replicas": 2, "size": "small"},
            "system": "analytics",
            "type": "redis"
        }
    });
    assert_eq!(translate(resource, Some("finance"), item), expected);
}

/// Empty parameters are left out; a null type kind defaults to ResourceType.
#[test]
fn resource_empty_parameters_and_null_kind() {
    let item = json!({
        "metadata": {"name": "db"},
        "spec": {
            "owner": {"projectName": "p"},
            "parameters": {},
            "type": {"kind": null, "name": "postgres"}
        }
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Resource",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "",
                "openchoreo.io/namespace": "acme",
                "openchoreo.io/project": "p",
                "openchoreo.io/resource": "db",
                "openchoreo.io/resource-type": "postgres",
                "openchoreo.io/resource-type-kind": "ResourceType"
            },
            "description": "db resource",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "db",
            "namespace": "acme",
            "tags": ["openchoreo", "resource", "postgres"],
            "title": "db"
        },
        "spec": {"owner": "group:default/openchoreo-users", "system": "p", "type": "postgres"}
    });
    assert_eq!(translate(resource, Some("acme"), item), expected);
}

/// A component workflow (CI): the repository parameters annotation, a namespaced plane ref with its kind, a TTL.
#[test]
fn workflow_component_with_parameters() {
    let item = json!({
        "metadata": {
            "creationTimestamp": "2026-05-14T10:00:00Z",
            "labels": {"openchoreo.dev/workflow-type": "component"},
            "name": "docker"
        },
        "spec": {
            "parameters": {
                "openAPIV3Schema": {
                    "properties": {
                        "docker": {"properties": {"context": {"type": "string"}}, "type": "object"},
                        "repository": {
                            "properties": {
                                "appPath": {
                                    "type": "string",
                                    "x-openchoreo-component-parameter-repository-app-path": true
                                },
                                "revision": {
                                    "properties": {
                                        "branch": {
                                            "type": "string",
                                            "x-openchoreo-component-parameter-repository-branch": true
                                        },
                                        "commit": {
                                            "type": "string",
                                            "x-openchoreo-component-parameter-repository-commit": true
                                        }
                                    },
                                    "type": "object"
                                },
                                "secretRef": {
                                    "type": "string",
                                    "x-openchoreo-component-parameter-repository-secret-ref": true
                                },
                                "url": {
                                    "type": "string",
                                    "x-openchoreo-component-parameter-repository-url": true
                                }
                            },
                            "type": "object"
                        }
                    },
                    "type": "object"
                }
            },
            "ttlAfterCompletion": "1h",
            "workflowPlaneRef": {"kind": "WorkflowPlane", "name": "wp"}
        }
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.dev/component-workflow-parameters": "appPath: parameters.repository.appPath\nbranch: parameters.repository.revision.branch\ncommit: parameters.repository.revision.commit\nsecretRef: parameters.repository.secretRef\nrepoUrl: parameters.repository.url",
                "openchoreo.io/created-at": "2026-05-14T10:00:00Z",
                "openchoreo.io/namespace": "acme",
                "openchoreo.io/workflow-plane-ref": "wp",
                "openchoreo.io/workflow-plane-ref-kind": "WorkflowPlane"
            },
            "description": "docker workflow",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "docker",
            "namespace": "acme",
            "tags": ["openchoreo", "workflow", "platform-engineering"],
            "title": "docker"
        },
        "spec": {
            "domain": "default/acme",
            "ttlAfterCompletion": "1h",
            "type": "CI",
            "workflowPlaneRef": "wp",
            "workflowPlaneRefKind": "WorkflowPlane"
        }
    });
    assert_eq!(translate(workflow, Some("acme"), item), expected);
}

/// Generic; a plane ref without kind: no kind annotation, spec kind WorkflowPlane; an empty TTL is left out.
#[test]
fn workflow_generic_plane_ref_without_kind() {
    let item = json!({
        "metadata": {"name": "nightly"},
        "spec": {"ttlAfterCompletion": "", "workflowPlaneRef": {"name": "wp"}}
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "Workflow",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "",
                "openchoreo.io/namespace": "acme",
                "openchoreo.io/workflow-plane-ref": "wp"
            },
            "description": "nightly workflow",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "nightly",
            "namespace": "acme",
            "tags": ["openchoreo", "workflow", "platform-engineering"],
            "title": "nightly"
        },
        "spec": {
            "domain": "default/acme",
            "type": "Generic",
            "workflowPlaneRef": "wp",
            "workflowPlaneRefKind": "WorkflowPlane"
        }
    });
    assert_eq!(translate(workflow, Some("acme"), item), expected);
}

/// No workload type: `deployment` in the spec, no tag; cluster kinds by default.
#[test]
fn cluster_component_type_defaults() {
    let item = json!({
        "metadata": {"creationTimestamp": "2026-05-14T10:00:00Z", "name": "web-app"},
        "spec": {
            "allowedTraits": ["autoscaler", {"kind": "Trait", "name": "ns-trait"}],
            "allowedWorkflows": ["docker", {"name": "buildpacks"}, "Workflow:ns-wf"]
        }
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ClusterComponentType",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "2026-05-14T10:00:00Z"
            },
            "description": "web-app cluster component type",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "web-app",
            "namespace": "openchoreo-cluster",
            "tags": ["openchoreo", "cluster-component-type", "platform-engineering"],
            "title": "web-app"
        },
        "spec": {
            "allowedTraits": [{"kind": "ClusterTrait", "name": "autoscaler"}, {"kind": "Trait", "name": "ns-trait"}],
            "allowedWorkflows": [
                {"kind": "ClusterWorkflow", "name": "docker"},
                {"kind": "ClusterWorkflow", "name": "buildpacks"},
                {"kind": "Workflow", "name": "ns-wf"}
            ],
            "workloadType": "deployment"
        }
    });
    assert_eq!(translate(cluster_component_type, None, item), expected);
}

/// Ported from the legacy "translateNewClusterResourceTypeToEntity unwraps the typed-client shape".
#[test]
fn cluster_resource_type_ported() {
    let item = json!({
        "apiVersion": "openchoreo.dev/v1alpha1",
        "kind": "ClusterResourceType",
        "metadata": {
            "annotations": {
                "openchoreo.dev/description": "Managed MySQL template",
                "openchoreo.dev/display-name": "MySQL"
            },
            "creationTimestamp": "2026-05-14T10:00:00Z",
            "name": "mysql"
        },
        "spec": {"resources": [], "retainPolicy": "Retain"}
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ClusterResourceType",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "2026-05-14T10:00:00Z"
            },
            "description": "Managed MySQL template",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "mysql",
            "namespace": "openchoreo-cluster",
            "tags": ["openchoreo", "cluster-resource-type", "platform-engineering"],
            "title": "MySQL"
        },
        "spec": {"retainPolicy": "Retain"}
    });
    assert_eq!(translate(cluster_resource_type, None, item), expected);
}

/// `?? 'Delete'`: an empty policy is kept, a null one defaults.
#[test]
fn cluster_resource_type_empty_retain_policy() {
    let item = json!({"metadata": {"name": "cache"}, "spec": {"retainPolicy": ""}});
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ClusterResourceType",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": ""
            },
            "description": "cache cluster resource type",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "cache",
            "namespace": "openchoreo-cluster",
            "tags": ["openchoreo", "cluster-resource-type", "platform-engineering"],
            "title": "cache"
        },
        "spec": {"retainPolicy": ""}
    });
    assert_eq!(translate(cluster_resource_type, None, item), expected);
}

/// Ported from the legacy "translateNewClusterProjectTypeToEntity unwraps the typed-client shape".
#[test]
fn cluster_project_type_ported() {
    let item = json!({
        "apiVersion": "openchoreo.dev/v1alpha1",
        "kind": "ClusterProjectType",
        "metadata": {
            "annotations": {
                "openchoreo.dev/description": "Baseline project infra",
                "openchoreo.dev/display-name": "Standard Project"
            },
            "creationTimestamp": "2026-06-14T10:00:00Z",
            "name": "standard-project"
        },
        "spec": {"resources": []}
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ClusterProjectType",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "2026-06-14T10:00:00Z"
            },
            "description": "Baseline project infra",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "standard-project",
            "namespace": "openchoreo-cluster",
            "tags": ["openchoreo", "cluster-project-type", "platform-engineering"],
            "title": "Standard Project"
        },
        "spec": {}
    });
    assert_eq!(translate(cluster_project_type, None, item), expected);
}

#[test]
fn cluster_trait_type_deleted() {
    let item = json!({"metadata": {"deletionTimestamp": "2026-05-14T10:00:00Z", "name": "observability"}});
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ClusterTraitType",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "",
                "openchoreo.io/deletion-timestamp": "2026-05-14T10:00:00Z"
            },
            "description": "observability cluster trait",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "observability",
            "namespace": "openchoreo-cluster",
            "tags": ["openchoreo", "cluster-trait-type", "platform-engineering"],
            "title": "observability"
        },
        "spec": {}
    });
    assert_eq!(translate(cluster_trait_type, None, item), expected);
}

/// The plane kind defaults to ClusterWorkflowPlane; parameters from `spec.schema.parameters.ocSchema`.
#[test]
fn cluster_workflow_with_default_plane_kind() {
    let item = json!({
        "metadata": {"labels": {"openchoreo.dev/workflow-type": "component"}, "name": "gcp-buildpacks"},
        "spec": {
            "schema": {
                "parameters": {
                    "ocSchema": {
                        "properties": {
                            "repo": {
                                "properties": {"url": {"x-openchoreo-component-parameter-repository-url": true}}
                            }
                        }
                    }
                }
            },
            "workflowPlaneRef": {"name": "default"}
        }
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ClusterWorkflow",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.dev/component-workflow-parameters": "repoUrl: parameters.repo.url",
                "openchoreo.io/created-at": "",
                "openchoreo.io/workflow-plane-ref": "default"
            },
            "description": "gcp-buildpacks cluster workflow",
            "labels": {"openchoreo.io/managed": "true"},
            "name": "gcp-buildpacks",
            "namespace": "openchoreo-cluster",
            "tags": ["openchoreo", "cluster-workflow", "platform-engineering"],
            "title": "gcp-buildpacks"
        },
        "spec": {
            "type": "CI",
            "workflowPlaneRef": "default",
            "workflowPlaneRefKind": "ClusterWorkflowPlane"
        }
    });
    assert_eq!(translate(cluster_workflow, None, item), expected);
}

/// The bare observability ref name (never qualified), gateway, agent.
#[test]
fn cluster_dataplane_with_everything() {
    let item = json!({
        "metadata": {
            "annotations": {"openchoreo.dev/description": "", "openchoreo.dev/display-name": "Default"},
            "creationTimestamp": "2026-05-14T10:00:00Z",
            "name": "default"
        },
        "spec": {
            "gateway": {
                "ingress": {
                    "external": {"http": {"host": "apps.local", "port": 80}, "name": "gw", "namespace": "gw-ns"}
                }
            },
            "observabilityPlaneRef": {"kind": "ClusterObservabilityPlane", "name": "default"}
        },
        "status": {
            "agentConnection": {"connected": true, "connectedAgents": 1},
            "conditions": [{"status": "True", "type": "Created"}]
        }
    });
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ClusterDataplane",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/agent-connected": "true",
                "openchoreo.io/agent-connected-count": "1",
                "openchoreo.io/created-at": "2026-05-14T10:00:00Z",
                "openchoreo.io/observability-plane-ref": "default",
                "openchoreo.io/status": "Ready"
            },
            "description": "default cluster data plane",
            "labels": {"openchoreo.io/cluster-dataplane": "true", "openchoreo.io/managed": "true"},
            "name": "default",
            "namespace": "openchoreo-cluster",
            "tags": ["openchoreo", "cluster-dataplane", "infrastructure"],
            "title": "Default"
        },
        "spec": {
            "gateway": {
                "ingress": {
                    "external": {"http": {"host": "apps.local", "port": 80}, "name": "gw", "namespace": "gw-ns"}
                }
            },
            "observabilityPlaneRef": "default"
        }
    });
    assert_eq!(translate(cluster_dataplane, None, item), expected);
}

#[test]
fn cluster_observability_plane_minimal() {
    let item = json!({"metadata": {"name": "default"}});
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ClusterObservabilityPlane",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "",
                "openchoreo.io/status": "Not Ready"
            },
            "description": "default cluster observability plane",
            "labels": {"openchoreo.io/cluster-observabilityplane": "true", "openchoreo.io/managed": "true"},
            "name": "default",
            "namespace": "openchoreo-cluster",
            "tags": ["openchoreo", "cluster-observabilityplane", "infrastructure"],
            "title": "default"
        },
        "spec": {}
    });
    assert_eq!(translate(cluster_observability_plane, None, item), expected);
}

/// A null ref name: no annotation, null in the spec.
#[test]
fn cluster_workflow_plane_null_ref_name() {
    let item = json!({"metadata": {"name": "default"}, "spec": {"observabilityPlaneRef": {"name": null}}});
    let expected = json!({
        "apiVersion": "backstage.io/v1alpha1",
        "kind": "ClusterWorkflowPlane",
        "metadata": {
            "annotations": {
                "backstage.io/managed-by-location": "provider:OpenChoreoEntityProvider",
                "backstage.io/managed-by-origin-location": "provider:OpenChoreoEntityProvider",
                "openchoreo.io/created-at": "",
                "openchoreo.io/status": "Not Ready"
            },
            "description": "default cluster workflow plane",
            "labels": {"openchoreo.io/cluster-workflowplane": "true", "openchoreo.io/managed": "true"},
            "name": "default",
            "namespace": "openchoreo-cluster",
            "tags": ["openchoreo", "cluster-workflowplane", "infrastructure"],
            "title": "default"
        },
        "spec": {"observabilityPlaneRef": null}
    });
    assert_eq!(translate(cluster_workflow_plane, None, item), expected);
}
