//! The platform kinds (environments, planes, pipelines, types, traits, workflows,
//! resources and their cluster-scoped variants) -> Backstage entities, exactly as the
//! legacy module's `entityTranslation.ts` makes them (the shared shape in [`envelope`],
//! each kind declared in [`kinds`]).
//!
//! Every translator takes the raw list item (the OpenChoreo API's JSON) and the walked
//! OpenChoreo namespace (`None` for the cluster-scoped kinds, which land in
//! `openchoreo-cluster`). It returns `Err` naming the item and the field where the legacy
//! code would throw, or where its entity would be refused by the catalog (no name, an
//! invalid name or tag, a Resource without type or project).

use serde_json::Value;

use super::{Entity, TranslateContext};

mod envelope;
mod keys;
mod kinds;
mod shapes;

#[cfg(test)]
mod tests;

macro_rules! translators {
    ($($name:ident => $def:ident),* $(,)?) => {
        $(
            #[doc = concat!("One item of the `", stringify!($name), "` kind (its list is named in [`crate::kinds::LISTS`]).")]
            pub fn $name(ctx: &TranslateContext, ns: Option<&str>, item: &Value) -> Result<Entity, String> {
                envelope::translate(&kinds::$def, ctx, ns, item)
            }
        )*
    };
}

translators! {
    environment => ENVIRONMENT,
    notification_channel => NOTIFICATION_CHANNEL,
    dataplane => DATAPLANE,
    workflow_plane => WORKFLOW_PLANE,
    observability_plane => OBSERVABILITY_PLANE,
    deployment_pipeline => DEPLOYMENT_PIPELINE,
    component_type => COMPONENT_TYPE,
    trait_type => TRAIT_TYPE,
    resource_type => RESOURCE_TYPE,
    project_type => PROJECT_TYPE,
    resource => RESOURCE,
    workflow => WORKFLOW,
    cluster_component_type => CLUSTER_COMPONENT_TYPE,
    cluster_resource_type => CLUSTER_RESOURCE_TYPE,
    cluster_project_type => CLUSTER_PROJECT_TYPE,
    cluster_trait_type => CLUSTER_TRAIT_TYPE,
    cluster_workflow => CLUSTER_WORKFLOW,
    cluster_dataplane => CLUSTER_DATAPLANE,
    cluster_observability_plane => CLUSTER_OBSERVABILITY_PLANE,
    cluster_workflow_plane => CLUSTER_WORKFLOW_PLANE,
}
