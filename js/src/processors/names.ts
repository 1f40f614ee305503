// The names the legacy module's processors share with the OpenChoreo Backstage plugins
// (openchoreo-common constants.ts, relation names at K:105-201): the frontend draws its
// graphs from these exact strings, so they must not change.

/** Relation types: each forward name with its inverse. */
export const RELATION = {
  partOf: 'partOf',
  hasPart: 'hasPart',
  deploysTo: 'deploysTo',
  deployedBy: 'deployedBy',
  usesPipeline: 'usesPipeline',
  pipelineUsedBy: 'pipelineUsedBy',
  hostedOn: 'hostedOn',
  hosts: 'hosts',
  observedBy: 'observedBy',
  observes: 'observes',
  buildsOn: 'buildsOn',
  builds: 'builds',
  instanceOf: 'instanceOf',
  hasInstance: 'hasInstance',
  usesWorkflow: 'usesWorkflow',
  workflowUsedBy: 'workflowUsedBy',
  notifiedBy: 'notifiedBy',
  notifies: 'notifies',
} as const;

/** Annotations the relations are read from. */
export const ANNOTATION = {
  componentType: 'openchoreo.io/component-type',
  componentTypeKind: 'openchoreo.io/component-type-kind',
  resourceType: 'openchoreo.io/resource-type',
  resourceTypeKind: 'openchoreo.io/resource-type-kind',
  projectType: 'openchoreo.io/project-type',
  projectTypeKind: 'openchoreo.io/project-type-kind',
  dataPlaneRefKind: 'openchoreo.io/data-plane-ref-kind',
  workflowPlaneRef: 'openchoreo.io/workflow-plane-ref',
  workflowPlaneRefKind: 'openchoreo.io/workflow-plane-ref-kind',
} as const;

/** The catalog namespace that holds every cluster-scoped OpenChoreo entity. */
export const CLUSTER_NAMESPACE = 'openchoreo-cluster';
