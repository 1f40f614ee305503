// A full-refresh provider shaped like the legacy OpenChoreo provider: everything fetched
// into memory with its call pattern (the namespaces, then per namespace its projects, per
// project `components?project=`, per component `workloads?component=`; each list paged at
// the same page size, since the current API caps pages at 100), then every entity built
// and handed over in one `full` mutation. The legacy provider's other per-namespace lists
// (environments, dataplanes, ...) are not served by the stand-in and are left out, which
// flatters it.
import {
  LOCATION_KEY,
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
        installation.push({ ns, projects, components, workloads });
      }

      const entities = [];
      for (const { ns, projects, components, workloads } of installation) {
        const name = ns.metadata.name;
        entities.push(namespaceToDomain(ns));
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
      await connection.applyMutation({
        type: 'full',
        entities: entities.map(entity => ({ entity, locationKey: LOCATION_KEY })),
      });
      return {};
    },
  };
}
