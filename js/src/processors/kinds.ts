// What the catalog must know about each kind the OpenChoreo provider emits: which kinds
// it recognises, what it requires of them, and which relations it derives from which
// fields. The legacy module wrote one processor class per kind
// (catalog-backend-module-openchoreo/src/processors/*.ts); this table says the same
// things, kind by kind, and `processor.ts` carries them out.
import { ANNOTATION, RELATION } from './names';

/** A namespace: the entity's own (`default` when it has none), or the cluster one. */
export type Namespace = 'own' | 'cluster';

/** Where a target lives when it is named by a bare name. */
export interface Place {
  /** Lower-case kind, as in an entity ref. */
  kind: string;
  namespace: Namespace;
}

/** One value of the entity: a spec field, or an annotation (trimmed if `trim`). */
export type Field = { spec: string } | { annotation: string; trim?: boolean };

/**
 * The names one rule relates the entity to: one field (nothing when it is empty), or a
 * list the spec holds.
 * - `promotionEnvironments`: each distinct environment of `spec.promotionPaths`
 *   (`sourceEnvironment`, then `targetEnvironments[].name`), first seen first.
 * - `allowedWorkflows`: each `spec.allowedWorkflows` entry, a bare name or `{kind, name}`.
 */
export type Names = Field | { each: 'promotionEnvironments' | 'allowedWorkflows' };

/** How a named kind is compared with the keys of `TargetRule.kinds`. */
export type Fold = 'exact' | 'lower';

/** The entity a name points at. */
export type Target =
  /**
   * The value is an entity ref (`[kind:][namespace/]name`), parsed by Backstage's
   * `parseEntityRef` with `defaults`; a malformed one rejects the entity, or is skipped.
   */
  | { ref: Place; malformed: 'reject' | 'skip' }
  /**
   * The value is a bare name in `place`, unless a kind is named (by an annotation, or by
   * the list entry itself): then `kinds[fold(kind)]` says where; a kind not listed keeps
   * `place` (`default`), drops the relation (`skip`), or is used as named, in `place`'s
   * namespace (`as-named`).
   */
  | {
      place: Place;
      kindFrom?: Field | 'entry';
      /** The kind assumed when `kindFrom` names none. */
      kindDefault?: string;
      fold?: Fold;
      kinds?: Record<string, Place>;
      otherKinds?: 'default' | 'skip' | 'as-named';
    };

/** A relation pair: the entity `forward` the target, the target `inverse` the entity. */
export interface RelationRule {
  names: Names;
  /** `deployment/service` names the type `service` (Component `component-type`). */
  stripWorkloadPrefix?: boolean;
  relation: readonly [forward: string, inverse: string];
  target: Target;
}

/** A spec field that must be present (truthy), optionally only when another has a value. */
export interface Requirement {
  field: string;
  when?: { field: string; equals: string };
}

export interface KindRule {
  kind: string;
  /**
   * Whether this module makes the catalog accept the kind (`validateEntityKind`): true for
   * OpenChoreo's own kinds, false for Backstage's built-in ones. Like the legacy module,
   * the kind alone decides (exact case), whatever the apiVersion.
   */
  recognise: boolean;
  /** Cluster-scoped: the entity's namespace defaults to `openchoreo-cluster`. */
  clusterScoped?: boolean;
  /** The relations' source namespace is always `openchoreo-cluster` (legacy ClusterWorkflow). */
  sourceInCluster?: boolean;
  /** An entity without `spec` is rejected (the legacy processor read its spec unguarded). */
  specRequired?: boolean;
  requires?: Requirement[];
  /** `spec[field]`, when absent, becomes `spec[from] === equals` (before validation). */
  defaults?: Array<{ field: string; from: string; equals: string }>;
  relations: RelationRule[];
}

const own = (kind: string): Place => ({ kind, namespace: 'own' });
const cluster = (kind: string): Place => ({ kind, namespace: 'cluster' });

/** `spec.domain` (`default/<namespace>`): partOf / hasPart the Domain. */
const DOMAIN: RelationRule = {
  names: { spec: 'domain' },
  relation: [RELATION.partOf, RELATION.hasPart],
  target: { ref: own('domain'), malformed: 'reject' },
};

/** A namespaced plane's `spec.observabilityPlaneRef` (`<namespace>/<name>`). */
const OBSERVED_BY: RelationRule = {
  names: { spec: 'observabilityPlaneRef' },
  relation: [RELATION.observedBy, RELATION.observes],
  target: { ref: own('observabilityplane'), malformed: 'reject' },
};

/** A cluster plane's `spec.observabilityPlaneRef`: a malformed one is ignored. */
const CLUSTER_OBSERVED_BY: RelationRule = {
  names: { spec: 'observabilityPlaneRef' },
  relation: [RELATION.observedBy, RELATION.observes],
  target: { ref: cluster('clusterobservabilityplane'), malformed: 'skip' },
};

/** A built-in kind instanceOf its (Cluster)XType: name and kind from two annotations. */
function instanceOf(nameAnnotation: string, kindAnnotation: string, type: string, clusterType: string): RelationRule {
  return {
    names: { annotation: nameAnnotation },
    relation: [RELATION.instanceOf, RELATION.hasInstance],
    target: {
      place: own(type.toLowerCase()),
      kindFrom: { annotation: kindAnnotation },
      fold: 'exact',
      kinds: { [clusterType]: cluster(clusterType.toLowerCase()) },
      otherKinds: 'default',
    },
  };
}

/** Every kind the processors handle, in the legacy module's registration order. */
export const KIND_RULES: readonly KindRule[] = [
  {
    kind: 'Environment',
    recognise: true,
    requires: [{ field: 'type' }],
    defaults: [{ field: 'isProduction', from: 'type', equals: 'production' }],
    relations: [
      DOMAIN,
      {
        names: { spec: 'dataPlaneRef' },
        relation: [RELATION.hostedOn, RELATION.hosts],
        target: {
          place: own('dataplane'),
          kindFrom: { annotation: ANNOTATION.dataPlaneRefKind, trim: true },
          fold: 'lower',
          kinds: { clusterdataplane: cluster('clusterdataplane') },
          otherKinds: 'default',
        },
      },
    ],
  },
  { kind: 'Dataplane', recognise: true, specRequired: true, relations: [DOMAIN, OBSERVED_BY] },
  { kind: 'WorkflowPlane', recognise: true, specRequired: true, relations: [DOMAIN, OBSERVED_BY] },
  { kind: 'ObservabilityPlane', recognise: true, specRequired: true, relations: [DOMAIN] },
  {
    kind: 'DeploymentPipeline',
    recognise: true,
    specRequired: true,
    relations: [
      DOMAIN,
      {
        names: { each: 'promotionEnvironments' },
        relation: [RELATION.deploysTo, RELATION.deployedBy],
        target: { place: own('environment') },
      },
    ],
  },
  {
    kind: 'Component',
    recognise: false,
    relations: [
      {
        ...instanceOf(ANNOTATION.componentType, ANNOTATION.componentTypeKind, 'ComponentType', 'ClusterComponentType'),
        stripWorkloadPrefix: true,
      },
    ],
  },
  {
    kind: 'Resource',
    recognise: false,
    relations: [instanceOf(ANNOTATION.resourceType, ANNOTATION.resourceTypeKind, 'ResourceType', 'ClusterResourceType')],
  },
  {
    kind: 'ComponentType',
    recognise: true,
    specRequired: true,
    relations: [
      DOMAIN,
      {
        names: { each: 'allowedWorkflows' },
        relation: [RELATION.usesWorkflow, RELATION.workflowUsedBy],
        target: {
          place: own('workflow'),
          kindFrom: 'entry',
          kindDefault: 'Workflow',
          fold: 'lower',
          kinds: { clusterworkflow: cluster('clusterworkflow') },
          otherKinds: 'as-named',
        },
      },
    ],
  },
  { kind: 'TraitType', recognise: true, specRequired: true, relations: [DOMAIN] },
  {
    kind: 'Workflow',
    recognise: true,
    specRequired: true,
    relations: [
      DOMAIN,
      {
        names: { annotation: ANNOTATION.workflowPlaneRef, trim: true },
        relation: [RELATION.buildsOn, RELATION.builds],
        target: {
          place: own('workflowplane'),
          kindFrom: { annotation: ANNOTATION.workflowPlaneRefKind, trim: true },
          kindDefault: 'WorkflowPlane',
          fold: 'lower',
          kinds: { workflowplane: own('workflowplane'), clusterworkflowplane: cluster('clusterworkflowplane') },
          otherKinds: 'skip',
        },
      },
    ],
  },
  {
    kind: 'ClusterComponentType',
    recognise: true,
    clusterScoped: true,
    specRequired: true,
    relations: [
      {
        names: { each: 'allowedWorkflows' },
        relation: [RELATION.usesWorkflow, RELATION.workflowUsedBy],
        target: {
          place: cluster('clusterworkflow'),
          kindFrom: 'entry',
          kindDefault: 'ClusterWorkflow',
          fold: 'lower',
          otherKinds: 'as-named',
        },
      },
    ],
  },
  { kind: 'ClusterTraitType', recognise: true, clusterScoped: true, relations: [] },
  { kind: 'ClusterDataplane', recognise: true, clusterScoped: true, specRequired: true, relations: [CLUSTER_OBSERVED_BY] },
  { kind: 'ClusterObservabilityPlane', recognise: true, clusterScoped: true, relations: [] },
  {
    kind: 'ClusterWorkflowPlane',
    recognise: true,
    clusterScoped: true,
    specRequired: true,
    relations: [CLUSTER_OBSERVED_BY],
  },
  {
    kind: 'ClusterWorkflow',
    recognise: true,
    clusterScoped: true,
    sourceInCluster: true,
    relations: [
      {
        names: { annotation: ANNOTATION.workflowPlaneRef, trim: true },
        relation: [RELATION.buildsOn, RELATION.builds],
        target: { place: cluster('clusterworkflowplane') },
      },
    ],
  },
  { kind: 'ClusterResourceType', recognise: true, clusterScoped: true, relations: [] },
  { kind: 'ResourceType', recognise: true, specRequired: true, relations: [DOMAIN] },
  { kind: 'ClusterProjectType', recognise: true, clusterScoped: true, relations: [] },
  { kind: 'ProjectType', recognise: true, specRequired: true, relations: [DOMAIN] },
  {
    kind: 'System',
    recognise: false,
    relations: [
      {
        names: { spec: 'deploymentPipelineRef' },
        relation: [RELATION.usesPipeline, RELATION.pipelineUsedBy],
        target: { place: own('deploymentpipeline') },
      },
      instanceOf(ANNOTATION.projectType, ANNOTATION.projectTypeKind, 'ProjectType', 'ClusterProjectType'),
    ],
  },
  {
    kind: 'ObservabilityAlertsNotificationChannel',
    recognise: true,
    requires: [
      { field: 'type' },
      { field: 'environment' },
      { field: 'emailConfig', when: { field: 'type', equals: 'email' } },
      { field: 'webhookConfig', when: { field: 'type', equals: 'webhook' } },
    ],
    relations: [
      {
        names: { spec: 'environment' },
        relation: [RELATION.notifiedBy, RELATION.notifies],
        target: { place: own('environment') },
      },
    ],
  },
];

/** The OpenChoreo kinds this module makes the catalog accept (19). */
export const OPENCHOREO_KINDS: readonly string[] = KIND_RULES.filter(r => r.recognise).map(r => r.kind);
