// An OpenChoreo provider for Backstage's incremental ingestion engine
// (@backstage/plugin-catalog-backend-module-incremental-ingestion): a straightforward
// translation of the Rust walk (src/walk.rs). Same lists, same order, same page size,
// one page per `next(context, cursor)`, and the same entities.
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
import {
  LOCATION_KEY,
  PROVIDER_NAME,
  componentWithApis,
  fetchPage,
  namespaceToDomain,
  projectToSystem,
  workloadFacts,
  workloadToApis,
} from '../lib/openchoreo.mjs';

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
    const path = c.phase === 'namespaces' ? '/namespaces' : `/namespaces/${encodeURIComponent(ns)}/${c.phase}`;
    const page = await fetchPage(context.baseUrl, path, { cursor: c.cursor, limit: this.chunkSize });
    let entities = [];
    let namespaces = c.namespaces;
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

    let next;
    if (page.nextCursor) {
      next = { ...c, namespaces, cursor: page.nextCursor };
    } else if (c.phase === 'namespaces') {
      next = { phase: 'projects', namespaces, nsIndex: 0 };
    } else if (c.phase === 'projects') {
      next = { phase: 'workloads', namespaces, nsIndex: c.nsIndex };
    } else if (c.phase === 'workloads') {
      next = { phase: 'components', namespaces, nsIndex: c.nsIndex };
    } else {
      next = { phase: 'projects', namespaces, nsIndex: c.nsIndex + 1 };
    }
    const deferred = entities.map(entity => ({ entity, locationKey: LOCATION_KEY }));
    if (next.phase === 'projects' && next.nsIndex >= namespaces.length) {
      this.staging = { namespace: undefined, owners: new Map(), workloads: new Map() };
      this.onDone?.();
      return { done: true, entities: deferred, cursor: next };
    }
    return { done: false, entities: deferred, cursor: next };
  }
}
