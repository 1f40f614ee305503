// A full-refresh provider shaped like the legacy OpenChoreo provider: everything fetched
// into memory with its call pattern (the namespaces, then per namespace its projects, per
// project `components?project=`, per component `workloads?component=`; each list paged at
// the same page size, since the current API caps pages at 100), then every entity built
// and handed over in one `full` mutation. Its platform lists (environments, planes, types,
// ...) are fetched whole per namespace, and the cluster-scoped ones once, as it does.
import { CLUSTER_PLATFORM, NAMESPACED_PLATFORM } from '../lib/kinds.mjs';
import {
  CLUSTER_NAMESPACE,
  LOCATION_KEY,
  platformEntities,
  componentWithApis,
  fetchAll,
  namespaceToDomain,
  projectToSystem,
  workloadFacts,
  workloadToApis,
} from '../lib/openchoreo.mjs';

export async function setup(options, connection) {
  const { baseUrl, chunkSize } = options;
  const limit = chunkSize;
  return {
    async cycle() {
      const installation = [];
      for (const ns of await fetchAll(baseUrl, '/namespaces', { limit })) {
        const name = ns.metadata.name;
        const base = `/namespaces/${encodeURIComponent(name)}`;
        const platform = [];
        for (const list of NAMESPACED_PLATFORM) {
          const listPath = `${base}/${list.plural}`;
          for (const item of await fetchAll(baseUrl, listPath, { limit, optional: true })) {
            platform.push(...(await platformEntities(list, item, name, { baseUrl, listPath })));
          }
        }
        const projects = await fetchAll(baseUrl, `${base}/projects`, { limit });
        const components = [];
        const workloads = [];
        for (const p of projects) {
          const cs = await fetchAll(baseUrl, `${base}/components`, { limit, query: { project: p.metadata.name } });
          for (const c of cs) {
            components.push(c);
            for (const w of await fetchAll(baseUrl, `${base}/workloads`, {
              limit,
              query: { component: c.metadata.name },
            })) {
              workloads.push(w);
            }
          }
        }
        installation.push({ ns, platform, projects, components, workloads });
      }
      const cluster = [];
      for (const list of CLUSTER_PLATFORM) {
        const listPath = `/${list.plural}`;
        for (const item of await fetchAll(baseUrl, listPath, { limit, optional: true })) {
          cluster.push(...(await platformEntities(list, item, CLUSTER_NAMESPACE, { baseUrl, listPath })));
        }
      }

      const entities = [];
      for (const { ns, platform, projects, components, workloads } of installation) {
        const name = ns.metadata.name;
        entities.push(namespaceToDomain(ns), ...platform);
        const owners = new Map();
        for (const p of projects) {
          const owner = p.metadata?.annotations?.['backstage.io/owner'];
          if (owner !== undefined) owners.set(p.metadata.name, owner);
          entities.push(projectToSystem(p));
        }
        const staged = new Map();
        for (const w of workloads) {
          staged.set(w.spec.owner.componentName, { facts: workloadFacts(name, w), apis: workloadToApis(name, w) });
        }
        const lookup = c => staged.get(c)?.facts;
        for (const c of components) {
          entities.push(...componentWithApis(c, staged.get(c.metadata.name), lookup, owners.get(c.spec.owner.projectName)));
        }
      }
      entities.push(...cluster);
      await connection.applyMutation({
        type: 'full',
        entities: entities.map(entity => ({ entity, locationKey: LOCATION_KEY })),
      });
      return {};
    },
  };
}
