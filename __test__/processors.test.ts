// The OpenChoreo kind processors: each rule of KIND_RULES against the legacy module's own
// processor tests (ported: same inputs, same expected relations and rejections), then the
// real catalog plugin processing one entity of each of the 25 kinds, and what
// `catalog.rules` does (and does not do) to provider-emitted entities.
import { coreServices, createBackendModule, createServiceFactory } from '@backstage/backend-plugin-api';
import { DatabaseManager } from '@backstage/backend-defaults/database';
import { ConfigReader } from '@backstage/config';
import type { Entity } from '@backstage/catalog-model';
import * as catalogNode from '@backstage/plugin-catalog-node';
import type { CatalogProcessor, EntityProvider, EntityProviderConnection } from '@backstage/plugin-catalog-node';
import type { Knex } from 'knex';
import request from 'supertest';
import { KIND_RULES, OPENCHOREO_KINDS, OpenChoreoEntityProcessor, RELATION, openChoreoProcessors } from '../js/src/processors';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import type { JsonObject } from '@backstage/types';
import type { Server } from 'node:http';

// Only the catalog plugin and these processors: no engine, so no native addon is loaded.
const { catalogProcessingExtensionPoint, processingResult } = catalogNode;

type Feature = NonNullable<Parameters<typeof startTestBackend>[0]['features']>[number];

interface CatalogEntity extends Entity {
  relations?: Array<{ type: string; targetRef: string }>;
  status?: { items?: unknown[] };
}

/** Polls `probe` until it returns a value other than `undefined`, or fails at the deadline. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise(r => setTimeout(r, 250));
  }
}

const processor = new OpenChoreoEntityProcessor();
const location = { type: 'url', target: 'http://test' };

interface Rel {
  source: string;
  type: string;
  target: string;
}

const refText = (r: { kind: string; namespace: string; name: string }) => `${r.kind}:${r.namespace}/${r.name}`;

/** The relations `postProcessEntity` emits for `entity`, as `kind:ns/name` texts, in order. */
async function relations(entity: unknown): Promise<Rel[]> {
  const emitted: Rel[] = [];
  await processor.postProcessEntity(entity as Entity, location, result => {
    if (result.type !== 'relation') throw new Error(`unexpected ${result.type} result`);
    const { source, target, type } = result.relation;
    emitted.push({ source: refText(source), type, target: refText(target) });
  });
  return emitted;
}

/** The forward relation and its inverse. */
const pair = (source: string, forward: string, target: string, inverse: string): Rel[] => [
  { source, type: forward, target },
  { source: target, type: inverse, target: source },
];

const rejected = (entity: unknown) => processor.postProcessEntity(entity as Entity, location, () => undefined);

describe('the kinds table', () => {
  it('recognises exactly the 19 OpenChoreo kinds, by kind (exact case) whatever the apiVersion', async () => {
    expect([...OPENCHOREO_KINDS].sort()).toEqual(
      [
        'Environment',
        'Dataplane',
        'WorkflowPlane',
        'ObservabilityPlane',
        'DeploymentPipeline',
        'ComponentType',
        'TraitType',
        'ResourceType',
        'ProjectType',
        'Workflow',
        'ObservabilityAlertsNotificationChannel',
        'ClusterComponentType',
        'ClusterResourceType',
        'ClusterProjectType',
        'ClusterTraitType',
        'ClusterWorkflow',
        'ClusterDataplane',
        'ClusterObservabilityPlane',
        'ClusterWorkflowPlane',
      ].sort(),
    );
    for (const kind of OPENCHOREO_KINDS) {
      await expect(processor.validateEntityKind({ apiVersion: 'backstage.io/v1alpha1', kind } as Entity)).resolves.toBe(true);
      // The legacy processors compared the kind only.
      await expect(processor.validateEntityKind({ apiVersion: 'example.com/v9', kind } as Entity)).resolves.toBe(true);
      await expect(processor.validateEntityKind({ kind: kind.toLowerCase() } as Entity)).resolves.toBe(false);
    }
    // Built-in kinds are left to Backstage's own validation; unknown ones to nobody.
    for (const kind of ['Component', 'Resource', 'System', 'Domain', 'API', 'Template', 'Gadget']) {
      await expect(processor.validateEntityKind({ apiVersion: 'backstage.io/v1alpha1', kind } as Entity)).resolves.toBe(false);
    }
    expect(KIND_RULES.map(r => r.kind).filter(k => !OPENCHOREO_KINDS.includes(k))).toEqual(['Component', 'Resource', 'System']);
    expect(new Set(KIND_RULES.map(r => r.kind)).size).toBe(KIND_RULES.length);
  });

  it('openChoreoProcessors() gives the one processor', () => {
    const list: CatalogProcessor[] = openChoreoProcessors();
    expect(list.map(p => p.getProcessorName())).toEqual(['OpenChoreoEntityProcessor']);
  });

  it('leaves other kinds alone', async () => {
    await expect(relations({ kind: 'Domain', metadata: { name: 'x' }, spec: { domain: 'y' } })).resolves.toEqual([]);
    await expect(relations({ kind: 'API', metadata: { name: 'x' } })).resolves.toEqual([]);
  });
});

describe('Environment', () => {
  it('defaults spec.isProduction from spec.type, keeps a given one, and leaves other kinds alone', async () => {
    const pre = (entity: unknown) => processor.preProcessEntity(entity as Entity, location, () => undefined);
    await expect(pre({ kind: 'Environment', metadata: { name: 'p' }, spec: { type: 'production' } })).resolves.toMatchObject({
      spec: { isProduction: true },
    });
    await expect(pre({ kind: 'Environment', metadata: { name: 'd' }, spec: { type: 'non-production' } })).resolves.toMatchObject({
      spec: { isProduction: false },
    });
    await expect(
      pre({ kind: 'Environment', metadata: { name: 'd' }, spec: { type: 'production', isProduction: false } }),
    ).resolves.toMatchObject({ spec: { isProduction: false } });
    const dp = { kind: 'Dataplane', metadata: { name: 'x' }, spec: { type: 'production' } };
    await expect(pre(dp)).resolves.toBe(dp);
    const bare = { kind: 'Environment', metadata: { name: 'x' } };
    await expect(pre(bare)).resolves.toBe(bare);
  });

  it('is rejected without spec.type', async () => {
    await expect(rejected({ kind: 'Environment', metadata: { name: 'dev' }, spec: {} })).rejects.toThrow(
      'Environment entity must have spec.type',
    );
    await expect(rejected({ kind: 'Environment', metadata: { name: 'dev' } })).rejects.toThrow('spec.type');
  });

  it('partOf/hasPart its Domain', async () => {
    const rels = await relations({ kind: 'Environment', metadata: { name: 'dev', namespace: 'my-ns' }, spec: { type: 'development', domain: 'my-ns' } });
    expect(rels).toEqual(pair('environment:my-ns/dev', 'partOf', 'domain:my-ns/my-ns', 'hasPart'));
  });

  it('hostedOn/hosts a Dataplane by default, a ClusterDataplane when the ref kind says so (any case)', async () => {
    const env = (annotations?: Record<string, string>) => ({
      kind: 'Environment',
      metadata: { name: 'dev', namespace: 'my-ns', annotations },
      spec: { type: 'development', dataPlaneRef: 'dp-1' },
    });
    await expect(relations(env())).resolves.toEqual(pair('environment:my-ns/dev', 'hostedOn', 'dataplane:my-ns/dp-1', 'hosts'));
    await expect(relations(env({ 'openchoreo.io/data-plane-ref-kind': 'DataPlane' }))).resolves.toEqual(
      pair('environment:my-ns/dev', 'hostedOn', 'dataplane:my-ns/dp-1', 'hosts'),
    );
    await expect(relations(env({ 'openchoreo.io/data-plane-ref-kind': ' ClusterDataPlane ' }))).resolves.toEqual(
      pair('environment:my-ns/dev', 'hostedOn', 'clusterdataplane:openchoreo-cluster/dp-1', 'hosts'),
    );
  });

  it('as the legacy translator shapes it: domain first, then the data plane', async () => {
    const rels = await relations({
      apiVersion: 'backstage.io/v1alpha1',
      kind: 'Environment',
      metadata: { name: 'prod', namespace: 'acme', annotations: { 'openchoreo.io/data-plane-ref-kind': 'ClusterDataPlane' } },
      spec: { type: 'production', domain: 'default/acme', isProduction: true, dataPlaneRef: 'shared' },
    });
    expect(rels).toEqual([
      ...pair('environment:acme/prod', 'partOf', 'domain:default/acme', 'hasPart'),
      ...pair('environment:acme/prod', 'hostedOn', 'clusterdataplane:openchoreo-cluster/shared', 'hosts'),
    ]);
  });
});

describe('ObservabilityAlertsNotificationChannel', () => {
  const channel = (spec: Record<string, unknown> | undefined) => ({
    kind: 'ObservabilityAlertsNotificationChannel',
    metadata: { name: 'ch', namespace: 'my-ns' },
    spec,
  });

  it.each([
    [{ environment: 'dev' }, 'ObservabilityAlertsNotificationChannel entity must have spec.type'],
    [undefined, 'ObservabilityAlertsNotificationChannel entity must have spec.type'],
    [{ type: 'email' }, 'ObservabilityAlertsNotificationChannel entity must have spec.environment'],
    [{ type: 'email', environment: 'dev' }, 'ObservabilityAlertsNotificationChannel entity with type "email" must have spec.emailConfig'],
    [{ type: 'webhook', environment: 'dev' }, 'ObservabilityAlertsNotificationChannel entity with type "webhook" must have spec.webhookConfig'],
    [{ type: 'email', environment: 'dev', webhookConfig: {} }, 'must have spec.emailConfig'],
  ])('is rejected: %j', async (spec, message) => {
    await expect(rejected(channel(spec))).rejects.toThrow(message);
  });

  it('notifiedBy its Environment, which notifies it', async () => {
    await expect(relations(channel({ type: 'email', environment: 'dev', emailConfig: {} }))).resolves.toEqual(
      pair('observabilityalertsnotificationchannel:my-ns/ch', 'notifiedBy', 'environment:my-ns/dev', 'notifies'),
    );
    // Another type needs no config of either kind.
    await expect(relations(channel({ type: 'slack', environment: 'dev' }))).resolves.toHaveLength(2);
  });
});

describe('Component instanceOf its (Cluster)ComponentType', () => {
  const component = (annotations?: Record<string, string>, namespace: string | null = 'my-ns') => ({
    kind: 'Component',
    metadata: { name: 'my-comp', namespace: namespace ?? undefined, annotations },
    spec: {},
  });

  it('strips the workload prefix from the component type', async () => {
    await expect(relations(component({ 'openchoreo.io/component-type': 'deployment/service' }))).resolves.toEqual(
      pair('component:my-ns/my-comp', 'instanceOf', 'componenttype:my-ns/service', 'hasInstance'),
    );
    for (const prefix of ['statefulset', 'cronjob', 'job']) {
      const rels = await relations(component({ 'openchoreo.io/component-type': `${prefix}/worker` }));
      expect(rels[0].target).toBe('componenttype:my-ns/worker');
    }
    // Other prefixes and bare names are kept as they are.
    const [other] = await relations(component({ 'openchoreo.io/component-type': 'daemonset/agent' }));
    expect(other.target).toBe('componenttype:my-ns/daemonset/agent');
    const [bare] = await relations(component({ 'openchoreo.io/component-type': 'service' }, null));
    expect(bare).toEqual({ source: 'component:default/my-comp', type: 'instanceOf', target: 'componenttype:default/service' });
  });

  it('targets a ClusterComponentType when component-type-kind says so (exact case)', async () => {
    const rels = await relations(
      component({ 'openchoreo.io/component-type': 'cronjob/scheduled-task', 'openchoreo.io/component-type-kind': 'ClusterComponentType' }),
    );
    expect(rels).toEqual(
      pair('component:my-ns/my-comp', 'instanceOf', 'clustercomponenttype:openchoreo-cluster/scheduled-task', 'hasInstance'),
    );
    const [lower] = await relations(
      component({ 'openchoreo.io/component-type': 'deployment/web', 'openchoreo.io/component-type-kind': 'clustercomponenttype' }),
    );
    expect(lower.target).toBe('componenttype:my-ns/web');
  });

  it('emits nothing without the annotation', async () => {
    await expect(relations(component())).resolves.toEqual([]);
    await expect(relations({ kind: 'Component', metadata: { name: 'x' } })).resolves.toEqual([]);
  });
});

describe('Resource instanceOf its (Cluster)ResourceType', () => {
  it('namespaced and cluster types', async () => {
    const resource = (kind: string, namespace?: string) => ({
      kind: 'Resource',
      metadata: {
        name: 'analytics-db',
        namespace,
        annotations: { 'openchoreo.io/resource-type': 'postgres', 'openchoreo.io/resource-type-kind': kind },
      },
      spec: {},
    });
    await expect(relations(resource('ResourceType', 'finance'))).resolves.toEqual(
      pair('resource:finance/analytics-db', 'instanceOf', 'resourcetype:finance/postgres', 'hasInstance'),
    );
    await expect(relations(resource('ClusterResourceType', 'sales'))).resolves.toEqual(
      pair('resource:sales/analytics-db', 'instanceOf', 'clusterresourcetype:openchoreo-cluster/postgres', 'hasInstance'),
    );
    await expect(relations(resource('ResourceType'))).resolves.toEqual(
      pair('resource:default/analytics-db', 'instanceOf', 'resourcetype:default/postgres', 'hasInstance'),
    );
    await expect(relations({ kind: 'Resource', metadata: { name: 'x' } })).resolves.toEqual([]);
  });
});

describe('System (an OpenChoreo project)', () => {
  const system = (spec: Record<string, unknown>, annotations?: Record<string, string>, namespace: string | null = 'my-ns') => ({
    kind: 'System',
    metadata: { name: 'proj-1', namespace: namespace ?? undefined, annotations },
    spec,
  });

  it('usesPipeline/pipelineUsedBy from spec.deploymentPipelineRef', async () => {
    await expect(relations(system({ deploymentPipelineRef: 'pipe' }))).resolves.toEqual(
      pair('system:my-ns/proj-1', 'usesPipeline', 'deploymentpipeline:my-ns/pipe', 'pipelineUsedBy'),
    );
    await expect(relations(system({ deploymentPipelineRef: 'pipe' }, undefined, null))).resolves.toEqual(
      pair('system:default/proj-1', 'usesPipeline', 'deploymentpipeline:default/pipe', 'pipelineUsedBy'),
    );
    await expect(relations(system({}))).resolves.toEqual([]);
    await expect(relations({ kind: 'System', metadata: { name: 'nospec' } })).resolves.toEqual([]);
    // Only Systems: a Component with the same field gets nothing from it.
    await expect(relations({ kind: 'Component', metadata: { name: 'c' }, spec: { deploymentPipelineRef: 'pipe' } })).resolves.toEqual([]);
  });

  it('instanceOf its (Cluster)ProjectType, after the pipeline pair', async () => {
    const pt = { 'openchoreo.io/project-type': 'standard-project', 'openchoreo.io/project-type-kind': 'ProjectType' };
    await expect(relations(system({}, pt))).resolves.toEqual(
      pair('system:my-ns/proj-1', 'instanceOf', 'projecttype:my-ns/standard-project', 'hasInstance'),
    );
    await expect(
      relations(system({}, { 'openchoreo.io/project-type': 'global-project', 'openchoreo.io/project-type-kind': 'ClusterProjectType' })),
    ).resolves.toEqual(pair('system:my-ns/proj-1', 'instanceOf', 'clusterprojecttype:openchoreo-cluster/global-project', 'hasInstance'));
    await expect(relations(system({ deploymentPipelineRef: 'pipe' }, pt))).resolves.toEqual([
      ...pair('system:my-ns/proj-1', 'usesPipeline', 'deploymentpipeline:my-ns/pipe', 'pipelineUsedBy'),
      ...pair('system:my-ns/proj-1', 'instanceOf', 'projecttype:my-ns/standard-project', 'hasInstance'),
    ]);
  });
});

describe('kinds with a Domain', () => {
  it.each(['Dataplane', 'WorkflowPlane', 'ObservabilityPlane', 'DeploymentPipeline', 'ComponentType', 'TraitType', 'ResourceType', 'ProjectType', 'Workflow'])(
    '%s: partOf/hasPart the Domain of spec.domain; rejected without spec',
    async kind => {
      const source = `${kind.toLowerCase()}:my-ns/x`;
      await expect(relations({ kind, metadata: { name: 'x', namespace: 'my-ns' }, spec: { domain: 'my-ns' } })).resolves.toEqual(
        pair(source, 'partOf', 'domain:my-ns/my-ns', 'hasPart'),
      );
      // The translator's `default/<namespace>`: the Domain lives in `default`.
      await expect(relations({ kind, metadata: { name: 'x', namespace: 'my-ns' }, spec: { domain: 'default/my-ns' } })).resolves.toEqual(
        pair(source, 'partOf', 'domain:default/my-ns', 'hasPart'),
      );
      await expect(relations({ kind, metadata: { name: 'x' }, spec: { domain: 'web' } })).resolves.toEqual(
        pair(`${kind.toLowerCase()}:default/x`, 'partOf', 'domain:default/web', 'hasPart'),
      );
      await expect(relations({ kind, metadata: { name: 'x', namespace: 'my-ns' }, spec: {} })).resolves.toEqual([]);
      await expect(rejected({ kind, metadata: { name: 'x' } })).rejects.toThrow(`${kind} entity must have spec`);
      // A malformed domain ref rejects the entity (parseEntityRef throws), as in the legacy module.
      await expect(rejected({ kind, metadata: { name: 'x' }, spec: { domain: 'ns/' } })).rejects.toThrow();
    },
  );
});

describe('planes observed by an ObservabilityPlane', () => {
  it.each(['Dataplane', 'WorkflowPlane'])('%s: observedBy/observes, a namespace-qualified or bare ref', async kind => {
    const src = `${kind.toLowerCase()}:my-ns/p`;
    await expect(relations({ kind, metadata: { name: 'p', namespace: 'my-ns' }, spec: { observabilityPlaneRef: 'op' } })).resolves.toEqual(
      pair(src, 'observedBy', 'observabilityplane:my-ns/op', 'observes'),
    );
    await expect(
      relations({ kind, metadata: { name: 'p', namespace: 'my-ns' }, spec: { domain: 'default/my-ns', observabilityPlaneRef: 'other/op' } }),
    ).resolves.toEqual([
      ...pair(src, 'partOf', 'domain:default/my-ns', 'hasPart'),
      ...pair(src, 'observedBy', 'observabilityplane:other/op', 'observes'),
    ]);
  });

  it.each(['ClusterDataplane', 'ClusterWorkflowPlane'])(
    '%s: observedBy a ClusterObservabilityPlane; a malformed ref is ignored; rejected without spec',
    async kind => {
      const src = `${kind.toLowerCase()}:openchoreo-cluster/p`;
      await expect(
        relations({ kind, metadata: { name: 'p', namespace: 'openchoreo-cluster' }, spec: { observabilityPlaneRef: 'cop' } }),
      ).resolves.toEqual(pair(src, 'observedBy', 'clusterobservabilityplane:openchoreo-cluster/cop', 'observes'));
      // No namespace: the cluster one.
      await expect(relations({ kind, metadata: { name: 'p' }, spec: { observabilityPlaneRef: 'cop' } })).resolves.toEqual(
        pair(src, 'observedBy', 'clusterobservabilityplane:openchoreo-cluster/cop', 'observes'),
      );
      await expect(relations({ kind, metadata: { name: 'p' }, spec: { observabilityPlaneRef: 'ns/' } })).resolves.toEqual([]);
      await expect(relations({ kind, metadata: { name: 'p' }, spec: {} })).resolves.toEqual([]);
      await expect(rejected({ kind, metadata: { name: 'p' } })).rejects.toThrow(`${kind} entity must have spec`);
    },
  );
});

describe('DeploymentPipeline', () => {
  it('deploysTo/deployedBy each distinct environment of its promotion paths, first seen first', async () => {
    const rels = await relations({
      kind: 'DeploymentPipeline',
      metadata: { name: 'pipe', namespace: 'my-ns' },
      spec: {
        promotionPaths: [
          { sourceEnvironment: 'dev', targetEnvironments: [{ name: 'staging' }] },
          { sourceEnvironment: 'staging', targetEnvironments: [{ name: 'prod' }, { name: 'dev' }] },
          { sourceEnvironment: '', targetEnvironments: [] },
        ],
      },
    });
    const p = 'deploymentpipeline:my-ns/pipe';
    expect(rels).toEqual([
      ...pair(p, 'deploysTo', 'environment:my-ns/dev', 'deployedBy'),
      ...pair(p, 'deploysTo', 'environment:my-ns/staging', 'deployedBy'),
      ...pair(p, 'deploysTo', 'environment:my-ns/prod', 'deployedBy'),
    ]);
  });

  it('emits no project relation from spec.projectRefs (the System side owns it)', async () => {
    const rels = await relations({
      kind: 'DeploymentPipeline',
      metadata: { name: 'pipe', namespace: 'my-ns' },
      spec: { projectRefs: ['proj-1'], namespaceName: 'my-ns' },
    });
    expect(rels.filter(r => r.type === RELATION.usesPipeline || r.type === RELATION.pipelineUsedBy)).toEqual([]);
    expect(rels).toEqual([]);
  });
});

describe('ComponentType / ClusterComponentType usesWorkflow', () => {
  it('ComponentType: a bare name is a Workflow of its namespace; {kind, name} as named', async () => {
    const rels = await relations({
      kind: 'ComponentType',
      metadata: { name: 'svc', namespace: 'my-ns' },
      spec: {
        allowedWorkflows: ['build-wf', { kind: 'Workflow', name: 'docker' }, { kind: 'ClusterWorkflow', name: 'shared' }, { name: 'nokind' }, { kind: 'Workflow' }],
      },
    });
    const ct = 'componenttype:my-ns/svc';
    expect(rels).toEqual([
      ...pair(ct, 'usesWorkflow', 'workflow:my-ns/build-wf', 'workflowUsedBy'),
      ...pair(ct, 'usesWorkflow', 'workflow:my-ns/docker', 'workflowUsedBy'),
      ...pair(ct, 'usesWorkflow', 'clusterworkflow:openchoreo-cluster/shared', 'workflowUsedBy'),
      ...pair(ct, 'usesWorkflow', 'workflow:my-ns/nokind', 'workflowUsedBy'),
    ]);
    // Another kind is used as named (lower-cased), in the type's namespace.
    const [other] = await relations({
      kind: 'ComponentType',
      metadata: { name: 'svc', namespace: 'my-ns' },
      spec: { allowedWorkflows: [{ kind: 'ComponentWorkflow', name: 'old' }] },
    });
    expect(other.target).toBe('componentworkflow:my-ns/old');
  });

  it('ClusterComponentType: no domain; every workflow in the cluster namespace, ClusterWorkflow by default', async () => {
    await expect(
      relations({ kind: 'ClusterComponentType', metadata: { name: 'svc', namespace: 'openchoreo-cluster' }, spec: { domain: 'x' } }),
    ).resolves.toEqual([]);
    const rels = await relations({
      kind: 'ClusterComponentType',
      metadata: { name: 'svc', namespace: 'openchoreo-cluster' },
      spec: { allowedWorkflows: ['cluster-build', { kind: 'Workflow', name: 'odd' }] },
    });
    const cct = 'clustercomponenttype:openchoreo-cluster/svc';
    expect(rels).toEqual([
      ...pair(cct, 'usesWorkflow', 'clusterworkflow:openchoreo-cluster/cluster-build', 'workflowUsedBy'),
      ...pair(cct, 'usesWorkflow', 'workflow:openchoreo-cluster/odd', 'workflowUsedBy'),
    ]);
    await expect(rejected({ kind: 'ClusterComponentType', metadata: { name: 'svc' } })).rejects.toThrow('must have spec');
  });
});

describe('Workflow / ClusterWorkflow buildsOn', () => {
  const workflow = (annotations: Record<string, string>, spec: Record<string, unknown> = {}) => ({
    kind: 'Workflow',
    metadata: { name: 'wf', namespace: 'my-ns', annotations },
    spec,
  });

  it('Workflow: a WorkflowPlane by default, a ClusterWorkflowPlane when the kind says so, nothing for another kind', async () => {
    await expect(relations(workflow({ 'openchoreo.io/workflow-plane-ref': ' wp-1 ' }, { domain: 'my-ns' }))).resolves.toEqual([
      ...pair('workflow:my-ns/wf', 'partOf', 'domain:my-ns/my-ns', 'hasPart'),
      ...pair('workflow:my-ns/wf', 'buildsOn', 'workflowplane:my-ns/wp-1', 'builds'),
    ]);
    await expect(
      relations(workflow({ 'openchoreo.io/workflow-plane-ref': 'cwp-1', 'openchoreo.io/workflow-plane-ref-kind': 'ClusterWorkflowPlane' })),
    ).resolves.toEqual(pair('workflow:my-ns/wf', 'buildsOn', 'clusterworkflowplane:openchoreo-cluster/cwp-1', 'builds'));
    await expect(
      relations(workflow({ 'openchoreo.io/workflow-plane-ref': 'x', 'openchoreo.io/workflow-plane-ref-kind': 'BuildPlane' }, { domain: 'd' })),
    ).resolves.toEqual(pair('workflow:my-ns/wf', 'partOf', 'domain:my-ns/d', 'hasPart'));
    await expect(relations(workflow({ 'openchoreo.io/workflow-plane-ref': '  ' }))).resolves.toEqual([]);
  });

  it('ClusterWorkflow: always a ClusterWorkflowPlane, from the cluster namespace; no domain', async () => {
    const cwf = (annotations?: Record<string, string>, namespace = 'openchoreo-cluster') => ({
      kind: 'ClusterWorkflow',
      metadata: { name: 'wf', namespace, annotations },
      spec: { domain: 'x' },
    });
    await expect(relations(cwf())).resolves.toEqual([]);
    const both = pair('clusterworkflow:openchoreo-cluster/wf', 'buildsOn', 'clusterworkflowplane:openchoreo-cluster/cwp-1', 'builds');
    await expect(relations(cwf({ 'openchoreo.io/workflow-plane-ref': 'cwp-1', 'openchoreo.io/workflow-plane-ref-kind': 'WorkflowPlane' }))).resolves.toEqual(
      both,
    );
    await expect(relations(cwf({ 'openchoreo.io/workflow-plane-ref': 'cwp-1' }, 'elsewhere'))).resolves.toEqual(both);
    // No spec access: accepted without one.
    await expect(relations({ kind: 'ClusterWorkflow', metadata: { name: 'wf' } })).resolves.toEqual([]);
  });
});

describe('kinds with no relations', () => {
  it.each(['ClusterTraitType', 'ClusterResourceType', 'ClusterProjectType', 'ClusterObservabilityPlane'])(
    '%s: accepted with or without spec, emits nothing',
    async kind => {
      await expect(relations({ kind, metadata: { name: 't' }, spec: { domain: 'x', retainPolicy: 'Delete' } })).resolves.toEqual([]);
      await expect(relations({ kind, metadata: { name: 't' } })).resolves.toEqual([]);
    },
  );
});

// ---------------------------------------------------------------------------------------
// The real catalog.

const PROVIDER = 'OpenChoreoEntityProvider';
const OWNER = 'group:default/openchoreo-users';
const NS = 'acme';
const CLUSTER = 'openchoreo-cluster';

function entity(kind: string, namespace: string, name: string, spec: Record<string, unknown>, annotations: Record<string, string> = {}): Entity {
  return {
    apiVersion: kind === 'Template' ? 'scaffolder.backstage.io/v1beta3' : 'backstage.io/v1alpha1',
    kind,
    metadata: {
      name,
      namespace,
      title: name,
      annotations: {
        'backstage.io/managed-by-location': `provider:${PROVIDER}`,
        'backstage.io/managed-by-origin-location': `provider:${PROVIDER}`,
        ...(namespace !== CLUSTER && kind !== 'Domain' ? { 'openchoreo.io/namespace': NS } : {}),
        'openchoreo.io/created-at': '',
        ...annotations,
      },
      labels: { 'openchoreo.io/managed': 'true' },
    },
    spec: spec as Entity['spec'],
  };
}

const domain = `default/${NS}`;

/** One entity of each of the 25 kinds, shaped as the legacy translators shape them. */
const ALL_KINDS: Entity[] = [
  entity('Domain', 'default', NS, { owner: OWNER }),
  entity('System', NS, 'shop', { owner: OWNER, domain, deploymentPipelineRef: 'default-pipeline' }, {
    'openchoreo.io/project-type': 'standard',
    'openchoreo.io/project-type-kind': 'ClusterProjectType',
  }),
  entity('Component', NS, 'cart', { type: 'deployment/service', lifecycle: 'ready', owner: OWNER, system: 'shop', providesApis: ['cart-http'] }, {
    'openchoreo.io/component-type': 'deployment/service',
    'openchoreo.io/component-type-kind': 'ComponentType',
  }),
  entity('API', NS, 'cart-http', { type: 'openapi', lifecycle: 'production', owner: OWNER, system: 'shop', definition: 'openapi: 3.0.0' }),
  entity('Resource', NS, 'orders-db', { type: 'postgres', owner: OWNER, system: 'shop' }, {
    'openchoreo.io/resource-type': 'postgres',
    'openchoreo.io/resource-type-kind': 'ResourceType',
  }),
  entity('Template', NS, 'create-service', { type: 'Component', owner: OWNER, parameters: [], steps: [] }),
  entity('Environment', NS, 'dev', { type: 'non-production', domain, dataPlaneRef: 'dp' }, { 'openchoreo.io/data-plane-ref': 'dp' }),
  entity('Dataplane', NS, 'dp', { domain, observabilityPlaneRef: `${NS}/obs` }, { 'openchoreo.io/observability-plane-ref': `${NS}/obs` }),
  entity('WorkflowPlane', NS, 'wp', { domain, observabilityPlaneRef: `${NS}/obs` }),
  entity('ObservabilityPlane', NS, 'obs', { domain, observerURL: 'http://observer' }),
  entity('DeploymentPipeline', NS, 'default-pipeline', {
    namespaceName: NS,
    domain,
    promotionPaths: [{ sourceEnvironment: 'dev', targetEnvironments: [{ name: 'staging' }] }],
  }),
  entity('ComponentType', NS, 'service', {
    domain,
    workloadType: 'deployment',
    allowedWorkflows: [
      { kind: 'Workflow', name: 'docker-build' },
      { kind: 'ClusterWorkflow', name: 'cluster-build' },
    ],
    allowedTraits: [],
  }),
  entity('TraitType', NS, 'autoscaler', { domain }),
  entity('ResourceType', NS, 'postgres', { domain, retainPolicy: 'Delete' }),
  entity('ProjectType', NS, 'team-project', { domain }),
  entity('Workflow', NS, 'docker-build', { domain, type: 'CI', workflowPlaneRef: 'wp', workflowPlaneRefKind: 'WorkflowPlane' }, {
    'openchoreo.io/workflow-plane-ref': 'wp',
    'openchoreo.io/workflow-plane-ref-kind': 'WorkflowPlane',
  }),
  entity('ObservabilityAlertsNotificationChannel', NS, 'email-alerts', {
    environment: 'dev',
    isEnvDefault: true,
    type: 'email',
    emailConfig: { from: 'alerts@acme.test', to: ['ops@acme.test'], smtp: { host: 'smtp', port: 25 }, template: { subject: 's', body: 'b' } },
  }),
  entity('ClusterComponentType', CLUSTER, 'web', {
    workloadType: 'deployment',
    allowedWorkflows: [{ kind: 'ClusterWorkflow', name: 'cluster-build' }],
    allowedTraits: [],
  }),
  entity('ClusterResourceType', CLUSTER, 'valkey', { retainPolicy: 'Delete' }),
  entity('ClusterProjectType', CLUSTER, 'standard', {}),
  entity('ClusterTraitType', CLUSTER, 'ingress', {}),
  entity('ClusterWorkflow', CLUSTER, 'cluster-build', { type: 'CI', workflowPlaneRef: 'cwp', workflowPlaneRefKind: 'ClusterWorkflowPlane' }, {
    'openchoreo.io/workflow-plane-ref': 'cwp',
    'openchoreo.io/workflow-plane-ref-kind': 'ClusterWorkflowPlane',
  }),
  entity('ClusterDataplane', CLUSTER, 'cdp', { observabilityPlaneRef: 'cop' }, { 'openchoreo.io/observability-plane-ref': 'cop' }),
  entity('ClusterObservabilityPlane', CLUSTER, 'cop', { observerURL: 'http://observer' }),
  entity('ClusterWorkflowPlane', CLUSTER, 'cwp', { observabilityPlaneRef: 'cop' }),
];

/** Entities the catalog must refuse, and the error each must carry. */
const REFUSED: Array<{ entity: Entity; error: RegExp }> = [
  { entity: entity('Environment', NS, 'no-type', { domain }), error: /Environment entity must have spec\.type/ },
  { entity: { ...entity('Dataplane', NS, 'no-spec', {}), spec: undefined }, error: /Dataplane entity must have spec/ },
  {
    entity: entity('ObservabilityAlertsNotificationChannel', NS, 'no-config', { environment: 'dev', type: 'webhook' }),
    error: /with type "webhook" must have spec\.webhookConfig/,
  },
  { entity: entity('Gadget', NS, 'unknown-kind', {}), error: /No processor recognized the entity gadget:acme\/unknown-kind/ },
];

const refOf = (e: { kind: string; metadata: { namespace?: string; name: string } }) =>
  `${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase();

/** Relations each entity must carry once processed and stitched (others may be there too). */
const EXPECTED: Record<string, Array<[string, string]>> = {
  [`domain:default/${NS}`]: [
    ['hasPart', `system:${NS}/shop`],
    ...['environment:dev', 'dataplane:dp', 'workflowplane:wp', 'observabilityplane:obs', 'deploymentpipeline:default-pipeline', 'componenttype:service', 'traittype:autoscaler', 'resourcetype:postgres', 'projecttype:team-project', 'workflow:docker-build'].map(
      (k): [string, string] => ['hasPart', k.replace(':', `:${NS}/`)],
    ),
  ],
  [`system:${NS}/shop`]: [
    ['partOf', `domain:default/${NS}`],
    ['usesPipeline', `deploymentpipeline:${NS}/default-pipeline`],
    ['instanceOf', `clusterprojecttype:${CLUSTER}/standard`],
    ['hasPart', `component:${NS}/cart`],
    ['ownedBy', OWNER],
  ],
  [`component:${NS}/cart`]: [
    ['instanceOf', `componenttype:${NS}/service`],
    ['partOf', `system:${NS}/shop`],
    ['providesApi', `api:${NS}/cart-http`],
  ],
  [`api:${NS}/cart-http`]: [['apiProvidedBy', `component:${NS}/cart`]],
  [`resource:${NS}/orders-db`]: [['instanceOf', `resourcetype:${NS}/postgres`]],
  [`template:${NS}/create-service`]: [],
  [`environment:${NS}/dev`]: [
    ['partOf', `domain:default/${NS}`],
    ['hostedOn', `dataplane:${NS}/dp`],
    ['deployedBy', `deploymentpipeline:${NS}/default-pipeline`],
    ['notifies', `observabilityalertsnotificationchannel:${NS}/email-alerts`],
  ],
  [`dataplane:${NS}/dp`]: [
    ['hosts', `environment:${NS}/dev`],
    ['observedBy', `observabilityplane:${NS}/obs`],
    ['partOf', `domain:default/${NS}`],
  ],
  [`workflowplane:${NS}/wp`]: [
    ['observedBy', `observabilityplane:${NS}/obs`],
    ['builds', `workflow:${NS}/docker-build`],
  ],
  [`observabilityplane:${NS}/obs`]: [
    ['observes', `dataplane:${NS}/dp`],
    ['observes', `workflowplane:${NS}/wp`],
  ],
  [`deploymentpipeline:${NS}/default-pipeline`]: [
    ['deploysTo', `environment:${NS}/dev`],
    ['deploysTo', `environment:${NS}/staging`],
    ['pipelineUsedBy', `system:${NS}/shop`],
  ],
  [`componenttype:${NS}/service`]: [
    ['hasInstance', `component:${NS}/cart`],
    ['usesWorkflow', `workflow:${NS}/docker-build`],
    ['usesWorkflow', `clusterworkflow:${CLUSTER}/cluster-build`],
  ],
  [`traittype:${NS}/autoscaler`]: [['partOf', `domain:default/${NS}`]],
  [`resourcetype:${NS}/postgres`]: [['hasInstance', `resource:${NS}/orders-db`]],
  [`projecttype:${NS}/team-project`]: [['partOf', `domain:default/${NS}`]],
  [`workflow:${NS}/docker-build`]: [
    ['buildsOn', `workflowplane:${NS}/wp`],
    ['workflowUsedBy', `componenttype:${NS}/service`],
  ],
  [`observabilityalertsnotificationchannel:${NS}/email-alerts`]: [['notifiedBy', `environment:${NS}/dev`]],
  [`clustercomponenttype:${CLUSTER}/web`]: [['usesWorkflow', `clusterworkflow:${CLUSTER}/cluster-build`]],
  [`clusterresourcetype:${CLUSTER}/valkey`]: [],
  [`clusterprojecttype:${CLUSTER}/standard`]: [['hasInstance', `system:${NS}/shop`]],
  [`clustertraittype:${CLUSTER}/ingress`]: [],
  [`clusterworkflow:${CLUSTER}/cluster-build`]: [
    ['buildsOn', `clusterworkflowplane:${CLUSTER}/cwp`],
    ['workflowUsedBy', `clustercomponenttype:${CLUSTER}/web`],
    ['workflowUsedBy', `componenttype:${NS}/service`],
  ],
  [`clusterdataplane:${CLUSTER}/cdp`]: [['observedBy', `clusterobservabilityplane:${CLUSTER}/cop`]],
  [`clusterobservabilityplane:${CLUSTER}/cop`]: [
    ['observes', `clusterdataplane:${CLUSTER}/cdp`],
    ['observes', `clusterworkflowplane:${CLUSTER}/cwp`],
  ],
  [`clusterworkflowplane:${CLUSTER}/cwp`]: [
    ['observedBy', `clusterobservabilityplane:${CLUSTER}/cop`],
    ['builds', `clusterworkflow:${CLUSTER}/cluster-build`],
  ],
};

/** Applies `entities` in one full mutation as soon as the catalog connects. */
class FixedProvider implements EntityProvider {
  constructor(private readonly entities: Entity[]) {}
  getProviderName() {
    return PROVIDER;
  }
  async connect(connection: EntityProviderConnection) {
    await connection.applyMutation({
      type: 'full',
      entities: this.entities.map(e => ({ entity: e, locationKey: `provider:${PROVIDER}` })),
    });
  }
}

/**
 * Backstage's Template kind belongs to the scaffolder's catalog module
 * (`@backstage/plugin-catalog-backend-module-scaffolder-entity-model`), which a real
 * Backstage app installs and this package does not depend on: when it is not installed,
 * a stand-in recognises the kind the same way (apiVersion and kind).
 */
function templateKind(): Feature {
  try {
    return require('@backstage/plugin-catalog-backend-module-scaffolder-entity-model').default as Feature;
  } catch {
    return createBackendModule({
      pluginId: 'catalog',
      moduleId: 'test-template-kind',
      register(env) {
        env.registerInit({
          deps: { catalog: catalogProcessingExtensionPoint },
          async init({ catalog }) {
            catalog.addProcessor({
              getProcessorName: () => 'TestTemplateKind',
              validateEntityKind: async (e: Entity) => e.apiVersion === 'scaffolder.backstage.io/v1beta3' && e.kind === 'Template',
            });
          },
        });
      },
    }) as Feature;
  }
}

/**
 * Emits, while post-processing the entity annotated `test/emit-child`, a System as a
 * child entity (as a Location's processor emits what it reads): the path `catalog.rules`
 * applies to.
 */
const childEmitter: CatalogProcessor = {
  getProcessorName: () => 'TestChildEmitter',
  async postProcessEntity(e, _location, emit) {
    if (e.metadata.annotations?.['test/emit-child']) {
      emit(processingResult.entity({ type: 'url', target: 'http://example.test/child.yaml' }, entity('System', NS, 'child', { owner: OWNER })));
    }
    return e;
  },
};

function testModule(entities: Entity[], extra: CatalogProcessor[] = []): Feature {
  return createBackendModule({
    pluginId: 'catalog',
    moduleId: 'openchoreo-processors-test',
    register(env) {
      env.registerInit({
        deps: { catalog: catalogProcessingExtensionPoint },
        async init({ catalog }) {
          for (const p of openChoreoProcessors()) catalog.addProcessor(p);
          for (const p of extra) catalog.addProcessor(p);
          catalog.addEntityProvider(new FixedProvider(entities));
        },
      });
    },
  }) as Feature;
}

/** The catalog's in-memory database, with its knex client kept for reading refresh_state. */
function catalogDatabase(clients: Map<string, Knex>): Feature {
  return createServiceFactory({
    service: coreServices.database,
    deps: { lifecycle: coreServices.lifecycle, logger: coreServices.logger, pluginMetadata: coreServices.pluginMetadata, rootLifecycle: coreServices.rootLifecycle, rootLogger: coreServices.rootLogger },
    async createRootContext({ rootLifecycle, rootLogger }) {
      const config = new ConfigReader({ backend: { database: { client: 'better-sqlite3', connection: ':memory:' } } });
      return DatabaseManager.fromConfig(config, { rootLifecycle, rootLogger });
    },
    async factory({ pluginMetadata, lifecycle, logger }, manager) {
      const inner = manager.forPlugin(pluginMetadata.getId(), { lifecycle, logger });
      return {
        ...inner,
        getClient: async () => {
          const client = await inner.getClient();
          clients.set(pluginMetadata.getId(), client);
          return client;
        },
      };
    },
  }) as Feature;
}

interface Harness {
  server: Server;
  /** Processing errors by entity ref, from the catalog's refresh_state ('' when none). */
  errors(): Promise<Map<string, string>>;
  entities(): Promise<Map<string, CatalogEntity>>;
  stop(): Promise<void>;
}

async function start(config: Record<string, unknown>, entities: Entity[], extra: CatalogProcessor[] = []): Promise<Harness> {
  const clients = new Map<string, Knex>();
  const backend = await startTestBackend({
    features: [
      mockServices.rootConfig.factory({ data: config as JsonObject }),
      catalogDatabase(clients),
      catalogPlugin,
      testModule(entities, extra),
      templateKind(),
    ],
  });
  return {
    server: backend.server,
    async errors() {
      const db = clients.get('catalog');
      if (!db) throw new Error('the catalog has no database client yet');
      const rows: Array<{ entity_ref: string; errors: string | null; result_hash: string | null }> = await db('refresh_state').select('entity_ref', 'errors', 'result_hash');
      const out = new Map<string, string>();
      for (const row of rows) {
        // A row not yet processed has no result hash: leave it out.
        if (!row.result_hash) continue;
        const list = row.errors ? (JSON.parse(row.errors) as Array<{ message: string; cause?: { message?: string } }>) : [];
        out.set(row.entity_ref, list.map(e => `${e.message}${e.cause?.message ? `: ${e.cause.message}` : ''}`).join('; '));
      }
      return out;
    },
    async entities() {
      const res = await request(backend.server).get('/api/catalog/entities/by-query').query({
        filter: `metadata.annotations.backstage.io/managed-by-location=provider:${PROVIDER}`,
        limit: '500',
      });
      if (res.status !== 200) throw new Error(`catalog query: ${res.status}`);
      return new Map((res.body.items as CatalogEntity[]).map(e => [refOf(e), e]));
    },
    async stop() {
      await backend.stop();
      await Promise.all([...clients.values()].map(c => c.destroy()));
    },
  };
}

/** What is still missing: entities, expected relations. Empty when all are there. */
function missingRelations(found: Map<string, CatalogEntity>): string[] {
  const out: string[] = [];
  for (const [ref, rels] of Object.entries(EXPECTED)) {
    const e = found.get(ref);
    if (!e) {
      out.push(`${ref}: not in the catalog`);
      continue;
    }
    const have = new Set(((e.relations ?? []) as Array<{ type: string; targetRef: string }>).map(r => `${r.type} ${r.targetRef}`));
    for (const [type, target] of rels) if (!have.has(`${type} ${target}`)) out.push(`${ref}: no ${type} ${target}`);
  }
  return out;
}

async function settled(h: Harness, refs: string[]): Promise<void> {
  await waitFor(
    'every entity processed, with its relations',
    async () => {
      const errors = await h.errors();
      if (!refs.every(r => errors.has(r))) return undefined;
      return missingRelations(await h.entities()).length === 0 ? true : undefined;
    },
    60000,
  ).catch(() => undefined); // the assertions below say what is missing
}

describe('in the real catalog', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await start({}, [...ALL_KINDS, ...REFUSED.map(r => r.entity)]);
    await settled(h, [...ALL_KINDS, ...REFUSED.map(r => r.entity)].map(refOf));
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('processes one entity of each of the 25 kinds without an error', async () => {
    expect(new Set(ALL_KINDS.map(e => e.kind)).size).toBe(25);
    const errors = await h.errors();
    const found = await h.entities();
    for (const e of ALL_KINDS) {
      expect([refOf(e), errors.get(refOf(e))]).toEqual([refOf(e), '']);
      expect(found.has(refOf(e))).toBe(true);
      expect(((found.get(refOf(e))?.status?.items ?? []) as unknown[]).length).toBe(0);
    }
  });

  it('gives every entity the relations the legacy processors gave it, both directions', async () => {
    expect(missingRelations(await h.entities())).toEqual([]);
  });

  it('keeps the spec the provider gave, with the Environment default filled in', async () => {
    const found = await h.entities();
    expect(found.get(`environment:${NS}/dev`)?.spec).toEqual({ type: 'non-production', domain, dataPlaneRef: 'dp', isProduction: false });
    const byRef = new Map(ALL_KINDS.map(e => [refOf(e), e]));
    for (const [ref, e] of found) {
      if (ref === `environment:${NS}/dev`) continue;
      expect([ref, e.spec]).toEqual([ref, byRef.get(ref)?.spec]);
    }
  });

  it('refuses what the legacy processors refused, and kinds nobody recognises', async () => {
    const errors = await h.errors();
    const found = await h.entities();
    for (const { entity: e, error } of REFUSED) {
      expect([refOf(e), errors.get(refOf(e))]).toEqual([refOf(e), expect.stringMatching(error)]);
      expect(found.has(refOf(e))).toBe(false);
    }
  });
});

describe('catalog.rules', () => {
  // Backstage applies catalog.rules (DefaultCatalogRulesEnforcer.isAllowed) only in
  // DefaultCatalogProcessingOrchestrator.processSingleEntity, to the entities a processor
  // emits as children (a Location's targets); what an entity provider applies with
  // applyMutation never meets them.
  let h: Harness;
  const probe = entity('Component', NS, 'rules-probe', { type: 'service', lifecycle: 'ready', owner: OWNER }, { 'test/emit-child': 'yes' });

  beforeAll(async () => {
    h = await start({ catalog: { rules: [{ allow: ['Component'] }] } }, [...ALL_KINDS, probe], [childEmitter]);
    await settled(h, [...ALL_KINDS, probe].map(refOf));
  });
  afterAll(async () => {
    await h?.stop();
  });

  it('do not keep provider-emitted entities of any kind out: all 25 kinds are in with rules that allow only Component', async () => {
    const errors = await h.errors();
    const found = await h.entities();
    for (const e of ALL_KINDS) {
      expect([refOf(e), errors.get(refOf(e))]).toEqual([refOf(e), '']);
      expect(found.has(refOf(e))).toBe(true);
    }
    expect(missingRelations(found)).toEqual([]);
  });

  it('are in force all the same: a child entity of a kind they do not allow is refused', async () => {
    const errors = await h.errors();
    expect(errors.get(refOf(probe))).toMatch(
      /Entity system:acme\/child at provider:OpenChoreoEntityProvider, originated at provider:OpenChoreoEntityProvider, is not of an allowed kind for that location/,
    );
    expect((await h.entities()).has(`system:${NS}/child`)).toBe(false);
  });
});
