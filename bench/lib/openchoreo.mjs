// The OpenChoreo side of the JavaScript contenders: a keep-alive list client (Node's
// global fetch, i.e. undici) and a straightforward translation of OpenChoreo resources
// into the same Backstage entities the Rust engine emits (src/translate/*.rs). The
// benchmark checks the equivalence at a small size before measuring (see run.mjs).
//
// No hand-written validation here (the Rust engine checks every entity against the
// catalog's rules); a natural TypeScript provider leaves that to the catalog.

export const PROVIDER_NAME = 'OpenChoreoEntityProvider';
export const LOCATION_KEY = `provider:${PROVIDER_NAME}`;
export const DEFAULT_OWNER = 'group:default/openchoreo-users';

/**
 * GET one page of `/api/v1<path>`; `query` adds e.g. `project=`. With `optional`, a 404
 * is an empty last page (a platform list an older OpenChoreo does not serve).
 */
export async function fetchPage(baseUrl, path, { cursor, limit = 100, query, optional = false } = {}) {
  const params = new URLSearchParams({ limit: String(limit) });
  if (cursor) params.set('cursor', cursor);
  for (const [k, v] of Object.entries(query ?? {})) params.set(k, v);
  const url = `${baseUrl}/api/v1${path}?${params}`;
  const res = await fetch(url);
  if (optional && res.status === 404) {
    await res.arrayBuffer();
    return { items: [], nextCursor: undefined };
  }
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  const body = await res.json();
  return { items: body.items ?? [], nextCursor: body.pagination?.nextCursor };
}

/** Every item of a list, following cursors (the legacy provider's way: all in memory). */
export async function fetchAll(baseUrl, path, options = {}) {
  const out = [];
  let cursor;
  do {
    const page = await fetchPage(baseUrl, path, { ...options, cursor });
    for (const item of page.items) out.push(item);
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

const nonEmpty = s => (typeof s === 'string' && s !== '' ? s : undefined);
const ann = (item, key) => item?.metadata?.annotations?.[key];
const displayName = item => nonEmpty(ann(item, 'openchoreo.dev/display-name'));
const description = item => nonEmpty(ann(item, 'openchoreo.dev/description'));
const ownerAnnotation = item => {
  const o = ann(item, 'backstage.io/owner');
  return typeof o === 'string' && o.trim() !== '' ? o.trim() : undefined;
};
const resolveOwner = (...candidates) => {
  for (const c of candidates) {
    if (typeof c === 'string' && c.trim() !== '') return c.trim();
  }
  return DEFAULT_OWNER;
};
const isReady = item => {
  const ready = (item?.status?.conditions ?? []).find(c => c.type === 'Ready');
  return ready?.status === 'True';
};

function managedAnnotations() {
  return {
    'backstage.io/managed-by-location': LOCATION_KEY,
    'backstage.io/managed-by-origin-location': LOCATION_KEY,
  };
}
const LABELS = () => ({ 'openchoreo.io/managed': 'true' });
const entity = (kind, metadata, spec) => ({ apiVersion: 'backstage.io/v1alpha1', kind, metadata, spec });
function setOpt(obj, key, value) {
  if (nonEmpty(value) !== undefined) obj[key] = value;
}

export const apiName = (project, component, endpoint) => `${project}-${component}-${endpoint}`;
export const entityRef = e =>
  `${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase();

export function namespaceToDomain(ns) {
  const name = ns.metadata.name;
  const a = managedAnnotations();
  a['openchoreo.io/namespace'] = name;
  setOpt(a, 'openchoreo.io/created-at', ns.metadata.creationTimestamp);
  setOpt(a, 'openchoreo.io/status', ns.status?.phase);
  return entity(
    'Domain',
    {
      name,
      title: displayName(ns) ?? name,
      description: description(ns) ?? name,
      tags: ['openchoreo', 'namespace', 'domain'],
      annotations: a,
      labels: LABELS(),
    },
    { owner: resolveOwner(ownerAnnotation(ns)) },
  );
}

export function projectToSystem(p) {
  const name = p.metadata.name;
  const namespace = p.metadata.namespace;
  const a = managedAnnotations();
  a['openchoreo.io/project-id'] = name;
  setOpt(a, 'openchoreo.io/project-uid', p.metadata.uid);
  a['openchoreo.io/namespace'] = namespace;
  setOpt(a, 'openchoreo.io/deletion-timestamp', p.metadata.deletionTimestamp);
  const type = p.spec?.type;
  if (nonEmpty(type?.name)) {
    a['openchoreo.io/project-type'] = type.name;
    a['openchoreo.io/project-type-kind'] = nonEmpty(type.kind) ?? 'ProjectType';
  }
  const spec = { owner: resolveOwner(ownerAnnotation(p)), domain: `default/${namespace}` };
  const pipeline = nonEmpty(p.spec?.deploymentPipelineRef?.name);
  if (pipeline) spec.deploymentPipelineRef = pipeline;
  return entity(
    'System',
    {
      name,
      namespace,
      title: displayName(p) ?? name,
      description: description(p) ?? name,
      tags: ['openchoreo', 'project'],
      annotations: a,
      labels: LABELS(),
    },
    spec,
  );
}

const schemaContent = ep => {
  const c = ep?.schema?.content;
  return typeof c === 'string' && c.trim() !== '' ? c : undefined;
};
const sortedEndpoints = w => Object.entries(w.spec?.endpoints ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/** A workload's API entities (owner: `owner`, or the default owner until its component is known). */
export function workloadToApis(namespace, w, owner) {
  const project = w.spec.owner.projectName;
  const component = w.spec.owner.componentName;
  const out = [];
  for (const [endpoint, ep] of sortedEndpoints(w)) {
    const content = schemaContent(ep);
    if (content === undefined) continue;
    const schemaType = nonEmpty(ep.schema?.type);
    const kindLabel = schemaType ?? ep.type;
    const a = managedAnnotations();
    a['openchoreo.io/component'] = component;
    a['openchoreo.io/endpoint-name'] = endpoint;
    a['openchoreo.io/endpoint-type'] = ep.type;
    a['openchoreo.io/endpoint-port'] = String(ep.port);
    a['openchoreo.io/endpoint-visibility'] = (ep.visibility ?? []).join(',');
    a['openchoreo.io/project'] = project;
    a['openchoreo.io/namespace'] = namespace;
    a['openchoreo.io/workload'] = w.metadata.name;
    out.push(
      entity(
        'API',
        {
          name: apiName(project, component, endpoint),
          namespace,
          title: `${component} ${endpoint} API`,
          description: `${kindLabel} API for ${component} on port ${ep.port}`,
          tags: ['openchoreo', 'api', kindLabel.toLowerCase()],
          annotations: a,
          labels: LABELS(),
        },
        {
          type: schemaType ? schemaType.toLowerCase() : 'openapi',
          lifecycle: 'production',
          owner: resolveOwner(owner),
          system: project,
          definition: content,
        },
      ),
    );
  }
  return out;
}

/** What a component needs from its workload (the Rust `WorkloadFacts`). */
export function workloadFacts(namespace, w) {
  const project = w.spec.owner.projectName;
  return {
    project,
    component: w.spec.owner.componentName,
    workloadName: w.metadata.name,
    apiEndpoints: sortedEndpoints(w)
      .filter(([, ep]) => schemaContent(ep) !== undefined)
      .map(([name]) => name),
    consumes: (w.spec?.dependencies?.endpoints ?? []).map(c => ({
      project: nonEmpty(c.project) ?? project,
      component: c.component,
      endpoint: c.name,
    })),
    dependsOn: (w.spec?.dependencies?.resources ?? []).map(r => `resource:${namespace}/${r.ref}`),
  };
}

/**
 * A component's entity. `facts` is its workload's facts (or undefined), `lookupFacts(name)`
 * finds another component's workload facts in the same namespace, `projectOwner` the
 * owner annotation of its project.
 */
export function componentToEntity(c, facts, lookupFacts, projectOwner) {
  const name = c.metadata.name;
  const namespace = c.metadata.namespace;
  const project = c.spec.owner.projectName;
  const ct = c.spec?.componentType;
  const typeName = nonEmpty(typeof ct === 'string' ? ct : ct?.name);
  const typeKind = typeof ct === 'object' && ct ? nonEmpty(ct.kind) : undefined;
  const status = isReady(c) ? 'Ready' : 'Not Ready';
  const repo = c.spec?.workflow?.parameters?.repository;
  const repoUrl = repo && typeof repo === 'object' ? nonEmpty(repo.url) : undefined;
  const branch = repo && typeof repo === 'object' ? nonEmpty(repo.revision?.branch) : undefined;

  const a = managedAnnotations();
  a['openchoreo.io/component'] = name;
  setOpt(a, 'openchoreo.io/component-uid', c.metadata.uid);
  setOpt(a, 'openchoreo.io/component-type', typeName);
  setOpt(a, 'openchoreo.io/component-type-kind', typeKind);
  a['openchoreo.io/project'] = project;
  a['openchoreo.io/namespace'] = namespace;
  setOpt(a, 'openchoreo.io/created-at', c.metadata.creationTimestamp);
  a['openchoreo.io/status'] = status;
  setOpt(a, 'openchoreo.io/deletion-timestamp', c.metadata.deletionTimestamp);
  if (repoUrl) a['backstage.io/source-location'] = `url:${repoUrl}`;
  setOpt(a, 'openchoreo.io/branch', branch);
  setOpt(a, 'openchoreo.io/workload', facts?.workloadName);

  const type = typeName ?? 'unknown';
  const metadata = { name, title: displayName(c) ?? name, namespace };
  const desc = description(c);
  if (desc !== undefined) metadata.description = desc;
  metadata.tags = ['openchoreo', 'component', type.replace('/', '-')].filter(t => t !== '');
  metadata.annotations = a;
  metadata.labels = LABELS();

  const spec = {
    type,
    lifecycle: status.toLowerCase(),
    owner: resolveOwner(ownerAnnotation(c), projectOwner),
    system: project,
  };
  const provides = facts ? facts.apiEndpoints.map(ep => apiName(facts.project, facts.component, ep)) : [];
  if (provides.length) spec.providesApis = provides;
  const consumes = (facts?.consumes ?? [])
    .filter(t => {
      const target = lookupFacts(t.component);
      return target && target.project === t.project && target.apiEndpoints.includes(t.endpoint);
    })
    .map(t => apiName(t.project, t.component, t.endpoint));
  if (consumes.length) spec.consumesApis = consumes;
  if (facts?.dependsOn?.length) spec.dependsOn = facts.dependsOn;
  return entity('Component', metadata, spec);
}

/** A component's entity followed by its workload's APIs, owned as the component is. */
export function componentWithApis(c, staged, lookupFacts, projectOwner) {
  const e = componentToEntity(c, staged?.facts, lookupFacts, projectOwner);
  const out = [e];
  for (const api of staged?.apis ?? []) {
    api.spec.owner = e.spec.owner;
    out.push(api);
  }
  return out;
}

/**
 * A platform item (environment, plane, type, ...) as an entity of its Backstage kind, and
 * the scaffolder Template a type also makes, from `GET <listPath>/<name>/schema` where the
 * list's Templates take one (`schema`) and the item names no template of its own. Not the
 * Rust engine's translation (its fields per kind, src/translate/platform.rs): a generic
 * one of similar size (the item's spec carried over) with the same requests, so the
 * JavaScript contenders do the same walk and hand over the same refs; these kinds are a
 * few dozen items per namespace against thousands of components. The benchmark's
 * equivalence check compares their refs only.
 */
export async function platformEntities({ kind, template, schema }, item, namespace, { baseUrl, listPath }) {
  const name = item.metadata.name;
  const a = managedAnnotations();
  a['openchoreo.io/namespace'] = namespace;
  setOpt(a, 'openchoreo.io/created-at', item.metadata.creationTimestamp);
  const metadata = {
    name,
    namespace,
    title: displayName(item) ?? name,
    description: description(item) ?? name,
    tags: ['openchoreo', kind.toLowerCase()],
    annotations: a,
    labels: LABELS(),
  };
  const out = [{ apiVersion: 'backstage.io/v1alpha1', kind, metadata, spec: { ...item.spec, owner: DEFAULT_OWNER } }];
  if (template) {
    const parameters = [];
    if (schema && !ann(item, 'scaffolder.openchoreo.dev/backstage-template-url')) {
      const url = `${baseUrl}/api/v1${listPath}/${encodeURIComponent(name)}/schema`;
      const res = await fetch(url);
      if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
      parameters.push(await res.json());
    }
    out.push({
      apiVersion: 'scaffolder.backstage.io/v1beta3',
      kind: 'Template',
      metadata: { ...metadata, name: `${template}${name}`, tags: ['openchoreo', 'template'] },
      spec: { type: kind.toLowerCase(), owner: DEFAULT_OWNER, parameters, steps: [] },
    });
  }
  return out;
}

/** The namespace a cluster-scoped platform item's entity lives in (the legacy module's). */
export const CLUSTER_NAMESPACE = 'openchoreo-cluster';
