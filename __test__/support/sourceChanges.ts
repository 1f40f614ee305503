import type { ApiItem, MockOpenChoreo } from './mock';

/**
 * The entity refs the stand-in's current data must produce, from its own lists (not from
 * the engine): as `tests/common/harness.rs` `expected_refs` for the basic kinds — a
 * Domain per namespace, a System per project, a Component per component of a listed
 * project, an API per workload endpoint with schema content.
 */
export async function expectedRefs(mock: MockOpenChoreo): Promise<Set<string>> {
  const refs = new Set<string>();
  for (const { metadata } of await mock.listAll('namespaces')) {
    const ns = metadata.name;
    refs.add(`domain:default/${ns}`.toLowerCase());
    const projects = new Set((await mock.listAll(`namespaces/${ns}/projects`)).map(p => p.metadata.name));
    for (const p of projects) refs.add(`system:${ns}/${p}`.toLowerCase());
    for (const c of await mock.listAll(`namespaces/${ns}/components`)) {
      if (projects.has(c.spec?.owner?.projectName)) refs.add(`component:${ns}/${c.metadata.name}`.toLowerCase());
    }
    for (const w of await mock.listAll(`namespaces/${ns}/workloads`)) {
      const { projectName, componentName } = w.spec?.owner ?? {};
      if (!projects.has(projectName)) continue;
      for (const [endpoint, ep] of Object.entries<any>(w.spec?.endpoints ?? {})) {
        if (typeof ep?.schema?.content === 'string' && ep.schema.content !== '') {
          refs.add(`api:${ns}/${projectName}-${componentName}-${endpoint}`.toLowerCase());
        }
      }
    }
  }
  return refs;
}

/**
 * Adds, edits and deletes components (with their workloads) through the stand-in's admin
 * API, choosing with the test's seeded random numbers.
 */
export class SourceChanges {
  readonly counts = { added: 0, edited: 0, deleted: 0 };
  /** The deleted components, `namespace/name`. */
  readonly deleted = new Set<string>();
  lastChangeAt = 0;
  private next = 0;

  private constructor(
    private readonly mock: MockOpenChoreo,
    private readonly random: () => number,
    /** Per namespace: component name -> its workloads' names. */
    private readonly components: Map<string, Map<string, string[]>>,
    private readonly workloadTemplate: ApiItem,
  ) {}

  static async of(mock: MockOpenChoreo, random: () => number): Promise<SourceChanges> {
    const components = new Map<string, Map<string, string[]>>();
    let template: ApiItem | undefined;
    for (const ns of await mock.namespaces()) {
      const byComponent = new Map<string, string[]>();
      for (const c of await mock.names(ns, 'components')) byComponent.set(c, []);
      for (const w of await mock.listAll(`namespaces/${ns}/workloads`)) {
        byComponent.get(w.spec?.owner?.componentName)?.push(w.metadata.name);
        const withSchema = Object.values<any>(w.spec?.endpoints ?? {}).some(ep => ep?.schema?.content);
        if (!template && withSchema) template = w;
      }
      components.set(ns, byComponent);
    }
    if (!template) throw new Error('the stand-in has no workload with an API schema to copy');
    return new SourceChanges(mock, random, components, template);
  }

  private pick<T>(items: T[]): T {
    return items[Math.floor(this.random() * items.length)];
  }

  /** One change: an addition (40%), an edit (30%) or a deletion (30%). */
  async one(): Promise<string> {
    const ns = this.pick([...this.components.keys()]);
    const byComponent = this.components.get(ns)!;
    const name = this.pick([...byComponent.keys()]);
    const roll = this.random();
    let what: string;
    if (roll < 0.4) {
      const source = await this.mock.getItem(ns, 'components', name);
      const added = `kill-add-${this.next++}`;
      const project = source.spec.owner.projectName;
      const component = structuredClone(source);
      component.metadata = { ...component.metadata, name: added };
      delete component.metadata.uid;
      await this.mock.putItem(ns, 'components', added, component);
      // A workload of its own, with the template's endpoints: new APIs too.
      const workload = structuredClone(this.workloadTemplate) as any;
      const workloadName = `${added}-workload`;
      workload.metadata = {
        ...workload.metadata,
        name: workloadName,
        namespace: ns,
        labels: { ...workload.metadata.labels, 'openchoreo.dev/project': project, 'openchoreo.dev/component': added },
      };
      delete workload.metadata.uid;
      workload.spec.owner = { projectName: project, componentName: added };
      await this.mock.putItem(ns, 'workloads', workloadName, workload);
      byComponent.set(added, [workloadName]);
      this.counts.added++;
      what = `added ${ns}/${added}`;
    } else if (roll < 0.7) {
      const item = await this.mock.getItem(ns, 'components', name);
      item.metadata.annotations = { ...item.metadata.annotations, 'openchoreo.dev/description': `edited ${this.next++}` };
      await this.mock.putItem(ns, 'components', name, item);
      this.counts.edited++;
      what = `edited ${ns}/${name}`;
    } else {
      for (const w of byComponent.get(name) ?? []) await this.mock.deleteItem(ns, 'workloads', w);
      await this.mock.deleteComponent(ns, name);
      byComponent.delete(name);
      this.deleted.add(`${ns}/${name}`);
      this.counts.deleted++;
      what = `deleted ${ns}/${name}`;
    }
    this.lastChangeAt = Date.now();
    return what;
  }
}
