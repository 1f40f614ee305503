// LegacyAdoption on its own, with a fake engine and catalog: paging, when it runs, and
// what happens when it fails.
import { LegacyAdoption } from '../js/src/adoption';

type Item = { kind: string; metadata: { name: string; namespace?: string } };

function setup(options: { cycle?: number; pages?: Item[][]; failures?: number; maxAttempts?: number } = {}) {
  const pages = options.pages ?? [];
  let failures = options.failures ?? 0;
  const adopted: string[][] = [];
  const queries: unknown[] = [];
  const logs: { level: string; message: string }[] = [];
  const log = (level: string) => (message: string) => {
    logs.push({ level, message });
  };
  const logger = {
    info: log('info'),
    warn: log('warn'),
    error: log('error'),
    debug: log('debug'),
    child: () => logger,
  };
  const engine = {
    providerName: 'OpenChoreoEntityProvider',
    status: async () => ({ cycle: options.cycle ?? 0, ownedEntities: 0 }) as never,
    adopt: async (refs: string[]) => {
      adopted.push(refs);
      return refs.length;
    },
  };
  const catalog = {
    queryEntities: async (request?: unknown) => {
      queries.push(request);
      if (failures > 0) {
        failures -= 1;
        throw new Error('catalog unavailable');
      }
      const cursor = (request as { cursor?: string } | undefined)?.cursor;
      const index = cursor ? Number(cursor) : 0;
      const next = index + 1 < pages.length ? String(index + 1) : undefined;
      return { items: (pages[index] ?? []) as never[], totalItems: 0, pageInfo: { nextCursor: next } };
    },
  };
  const auth = { getOwnServiceCredentials: async () => ({ $$type: '@backstage/BackstageCredentials' }) as never };
  const adoption = new LegacyAdoption({
    engine,
    catalog,
    auth,
    logger: logger as never,
    pageSize: 2,
    maxAttempts: options.maxAttempts,
  });
  return { adoption, adopted, queries, logs };
}

const component = (name: string, namespace?: string): Item => ({ kind: 'Component', metadata: { name, namespace } });

describe('LegacyAdoption', () => {
  it('pages through the entities under the location key and adopts them page by page', async () => {
    const { adoption, adopted, queries, logs } = setup({
      pages: [[component('A', 'ns'), component('b', 'ns')], [{ kind: 'Domain', metadata: { name: 'ns' } }]],
    });
    await expect(adoption.beforeTick()).resolves.toBe(true);
    expect(adopted).toEqual([['component:ns/a', 'component:ns/b'], ['domain:default/ns']]);
    expect(queries[0]).toEqual({
      filter: { 'metadata.annotations.backstage.io/managed-by-location': 'provider:OpenChoreoEntityProvider' },
      fields: ['kind', 'metadata.namespace', 'metadata.name'],
      limit: 2,
    });
    expect(queries[1]).toEqual({ cursor: '1', fields: ['kind', 'metadata.namespace', 'metadata.name'], limit: 2 });
    expect(logs.find(l => l.level === 'info')?.message).toMatch(/adopted 3 entities .*3 found/);
    // Done once: later ticks do not query the catalog again.
    await expect(adoption.beforeTick()).resolves.toBe(true);
    expect(queries).toHaveLength(2);
    expect(adoption.done).toBe(true);
  });

  it('does nothing once the engine has started a cycle', async () => {
    const { adoption, queries } = setup({ cycle: 3, pages: [[component('a', 'ns')]] });
    await expect(adoption.beforeTick()).resolves.toBe(true);
    expect(queries).toHaveLength(0);
  });

  it('holds ingestion back while it fails, and retries on the next tick', async () => {
    const { adoption, adopted, logs } = setup({ failures: 1, pages: [[component('a', 'ns')]] });
    await expect(adoption.beforeTick()).resolves.toBe(false);
    expect(logs.filter(l => l.level === 'warn').map(l => l.message).join()).toMatch(/attempt 1 of 3.*catalog unavailable/);
    await expect(adoption.beforeTick()).resolves.toBe(true);
    expect(adopted).toEqual([['component:ns/a']]);
  });

  it('gives up after the last attempt and lets ingestion go on', async () => {
    const { adoption, adopted, logs } = setup({ failures: 10, maxAttempts: 3 });
    expect(await adoption.beforeTick()).toBe(false);
    expect(await adoption.beforeTick()).toBe(false);
    expect(await adoption.beforeTick()).toBe(true);
    expect(await adoption.beforeTick()).toBe(true);
    expect(adopted).toEqual([]);
    const warnings = logs.filter(l => l.level === 'warn').map(l => l.message);
    expect(warnings).toHaveLength(3);
    expect(warnings[2]).toMatch(/failed 3 times; going on without it/);
  });

  it('runs one attempt at a time', async () => {
    const { adoption, queries } = setup({ pages: [[component('a', 'ns')]] });
    const [a, b] = await Promise.all([adoption.beforeTick(), adoption.beforeTick()]);
    expect([a, b]).toEqual([true, true]);
    expect(queries).toHaveLength(1);
  });
});
