//! The platform kinds (environments, planes, pipelines, types, traits, workflows,
//! resources and their cluster-scoped variants) -> Backstage entities, as the legacy
//! module's `entityTranslation.ts` makes them. Being written.
