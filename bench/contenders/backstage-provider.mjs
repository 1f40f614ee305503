// An OpenChoreo provider for Backstage's incremental ingestion engine
// (@backstage/plugin-catalog-backend-module-incremental-ingestion): a straightforward
// translation of the Rust walk (src/walk.rs). Same lists, same order, same page size,
// one page per `next(context, cursor)`, and the same entities (the platform kinds: the same
// refs, see platformEntities).
//
// The cursor is {phase, namespaces, nsIndex, cursor}: the namespace names found in the
// namespaces phase travel in it (Backstage persists the cursor as JSON with every mark).
//
// Cross-references (a component's workload and APIs, consumesApis targets, the project's
// owner) are kept in in-memory maps of the CURRENT namespace, as a natural TypeScript
// provider would do, instead of the Rust engine's staging tables. That is cheaper than the
// Rust engine's database staging, and only correct while one process walks a namespace
// from start to end (a restart or another replica in mid-namespace would lose the maps;
// the benchmark's single burst never does).
import { CLUSTER_PLATFORM, NAMESPACED_PLATFORM } from '../lib/kinds.mjs';
import {
  CLUSTER_NAMESPACE,
  LOCATION_KEY,
  PROVIDER_NAME,
  platformEntities,
  componentWithApis,
  fetchPage,
  namespaceToDomain,
  projectToSystem,
  workloadFacts,
  workloadToApis,
} from '../lib/openchoreo.mjs';

/** Per namespace, in this order (the Rust walk's); then the cluster-scoped lists once. */
const NAMESPACE_PHASES = [...NAMESPACED_PLATFORM.map(l => l.plural), 'projects', 'workloads', 'components'];
const CLUSTER_PHASES = CLUSTER_PLATFORM.map(l => l.plural);
const PLATFORM = new Map([...NAMESPACED_PLATFORM, ...CLUSTER_PLATFORM].map(l => [l.plural, l]));

export class OpenChoreoIncrementalProvider {
  constructor({ baseUrl, chunkSize = 100, onDone }) {
    this.baseUrl = baseUrl;
    this.chunkSize = chunkSize;
    this.onDone = onDone;
    this.staging = { namespace: undefined, owners: new Map(), workloads: new Map() };
  }

  getProviderName() {
    return PROVIDER_NAME;
  }

  async around(burst) {
    await burst({ baseUrl: this.baseUrl });
  }

  stagingFor(namespace) {
    if (this.staging.namespace !== namespace) {
      this.staging = { namespace, owners: new Map(), workloads: new Map() };
    }
    return this.staging;
  }

  async next(context, cursor) {
    const c = cursor ?? { phase: 'namespaces', namespaces: [], nsIndex: 0 };
    const ns = c.namespaces[c.nsIndex];
    const cluster = CLUSTER_PHASES.includes(c.phase);
    const platform = PLATFORM.get(c.phase);
    const path =
      c.phase === 'namespaces' || cluster ? `/${c.phase}` : `/namespaces/${encodeURIComponent(ns)}/${c.phase}`;
    const page = await fetchPage(context.baseUrl, path, { cursor: c.cursor, limit: this.chunkSize, optional: !!platform });
    let entities = [];
    let namespaces = c.namespaces;
    if (platform) {
      const target = cluster ? CLUSTER_NAMESPACE : ns;
      for (const item of page.items) {
        entities.push(...(await platformEntities(platform, item, target, { baseUrl: context.baseUrl, listPath: path })));
      }
    } else {
      switch (c.phase) {
        case 'namespaces':
          namespaces = namespaces.concat(page.items.map(i => i.metadata.name));
          entities = page.items.map(namespaceToDomain);
          break;
        case 'projects': {
          const s = this.stagingFor(ns);
          for (const p of page.items) {
            const owner = p.metadata?.annotations?.['backstage.io/owner'];
            if (owner !== undefined) s.owners.set(p.metadata.name, owner);
            entities.push(projectToSystem(p));
          }
          break;
        }
        case 'workloads': {
          const s = this.stagingFor(ns);
          for (const w of page.items) {
            s.workloads.set(w.spec.owner.componentName, { facts: workloadFacts(ns, w), apis: workloadToApis(ns, w) });
          }
          break;
        }
        case 'components': {
          const s = this.stagingFor(ns);
          const lookup = name => s.workloads.get(name)?.facts;
          for (const comp of page.items) {
            const staged = s.workloads.get(comp.metadata.name);
            entities.push(...componentWithApis(comp, staged, lookup, s.owners.get(comp.spec.owner.projectName)));
          }
          break;
        }
        default:
          throw new Error(`unknown phase ${c.phase}`);
      }
    }

    // The next list: the rest of this one, the namespace's next list, the next namespace,
    // then the cluster-scoped lists.
    let next;
    if (page.nextCursor) {
      next = { ...c, namespaces, cursor: page.nextCursor };
    } else {
      const sequence = cluster ? CLUSTER_PHASES : c.phase === 'namespaces' ? [] : NAMESPACE_PHASES;
      const following = sequence[sequence.indexOf(c.phase) + 1];
      if (following) next = { phase: following, namespaces, nsIndex: c.nsIndex };
      else if (cluster) next = { phase: 'done', namespaces, nsIndex: c.nsIndex };
      else {
        const nsIndex = c.phase === 'namespaces' ? 0 : c.nsIndex + 1;
        next =
          nsIndex < namespaces.length
            ? { phase: NAMESPACE_PHASES[0], namespaces, nsIndex }
            : { phase: CLUSTER_PHASES[0] ?? 'done', namespaces, nsIndex };
      }
    }
    const deferred = entities.map(entity => ({ entity, locationKey: LOCATION_KEY }));
    if (next.phase === 'done') {
      this.staging = { namespace: undefined, owners: new Map(), workloads: new Map() };
      this.onDone?.();
      return { done: true, entities: deferred, cursor: next };
    }
    return { done: false, entities: deferred, cursor: next };
  }
}
