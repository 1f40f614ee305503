// End to end: the real catalog plugin, this module, the real addon, the stand-in OpenChoreo.
import request from 'supertest';
import { schedulerServiceFactory } from '@backstage/backend-defaults/scheduler';
import { MockOpenChoreo } from './support/mock';
import {
  entityRef,
  expectedRefs,
  openChoreoConfig,
  providerEntities,
  startCatalog,
  waitFor,
  type CatalogEntity,
  type TestCatalog,
} from './support/backend';

const PROVIDER = 'OpenChoreoEntityProvider';
const base = `/api/catalog/incremental/providers/${PROVIDER}`;

describe('incremental ingestion into the catalog', () => {
  let mock: MockOpenChoreo;
  let catalog: TestCatalog;

  beforeAll(async () => {
    mock = await MockOpenChoreo.start(['--namespaces', '2', '--projects', '3', '--components', '4']);
    catalog = await startCatalog({ config: openChoreoConfig(mock.url, { chunkSize: 5 }) });
  });

  afterAll(async () => {
    await catalog?.stop();
    await mock?.stop();
  });

  it('puts the expected entities in the catalog', async () => {
    const summary = await mock.summary();
    const total = summary.namespaces + summary.projects + summary.components + summary.endpointsWithSchema;
    const wanted = await expectedRefs(mock);

    const entities = await waitFor('all entities in the catalog', async () => {
      const list = await providerEntities(catalog.server);
      if (list.length >= total) return list;
      // The test scheduler runs the task once at start-up; a slow machine may need
      // more bursts for the cycle: trigger them.
      await request(catalog.server).post(`${base}/refresh`);
      return undefined;
    });
    expect(entities).toHaveLength(total);
    const refs = new Set(entities.map(entityRef));
    for (const ref of wanted) expect(refs).toContain(ref);
    const byKind = (kind: string) => entities.filter(e => e.kind === kind).length;
    expect(byKind('API')).toBe(summary.endpointsWithSchema);

    for (const e of entities) {
      expect(e.metadata.annotations?.['backstage.io/managed-by-location']).toBe(`provider:${PROVIDER}`);
      expect(e.metadata.annotations?.['backstage.io/managed-by-origin-location']).toBe(`provider:${PROVIDER}`);
    }
    // Processed without errors (stitched entities carry processing errors in status.items).
    const withErrors = entities.filter((e: CatalogEntity) => (e.status?.items ?? []).some(i => i.level === 'error'));
    expect(withErrors.map(entityRef)).toEqual([]);
  });

  it('reports the completed cycle on the status route', async () => {
    const res = await request(catalog.server).get(`${base}/status`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ provider: PROVIDER, attempts: 0, lastError: null });
    expect(res.body.cycle).toBeGreaterThanOrEqual(1);
    expect(res.body.lastCompletedCycle.entities).toBeGreaterThan(0);
    // chunkSize 5: several pages per list.
    expect(res.body.lastCompletedCycle.pages).toBeGreaterThan(5);
  });

  it('removes what was deleted in OpenChoreo after the next cycle', async () => {
    const [ns] = await mock.namespaces();
    const [victim] = await mock.names(ns, 'components');
    const victimRef = `component:${ns}/${victim}`.toLowerCase();
    const before = await providerEntities(catalog.server);
    expect(before.map(entityRef)).toContain(victimRef);
    // Its APIs go with it.
    const victimApis = before
      .filter(e => e.kind === 'API' && e.metadata.annotations?.['openchoreo.io/component'] === victim)
      .map(entityRef);

    await mock.deleteComponent(ns, victim);

    // Each refresh runs a burst now (the test scheduler runs the task on trigger); a
    // cycle may need more than one burst.
    const after = await waitFor(
      'the deleted component to leave the catalog',
      async () => {
        const r = await request(catalog.server).post(`${base}/refresh`);
        expect(r.status).toBe(200);
        const list = await providerEntities(catalog.server);
        return list.some(e => entityRef(e) === victimRef) ? undefined : list;
      },
      { timeoutMs: 60000, intervalMs: 200 },
    );
    for (const api of victimApis) expect(after.map(entityRef)).not.toContain(api);
    expect(after.length).toBe(before.length - 1 - victimApis.length);

    const status = (await request(catalog.server).get(`${base}/status`)).body;
    expect(status.cycle).toBeGreaterThanOrEqual(2);
    expect(status.lastCompletedCycle.removed).toBe(1 + victimApis.length);
    expect(status.ownedEntities).toBe(after.length);
  });

  it('answers the health route without credentials', async () => {
    const res = await request(catalog.server)
      .get('/api/catalog/incremental/health')
      .set('Authorization', 'Bearer mock-none-token');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({
      healthy: true,
      providers: [expect.objectContaining({ name: PROVIDER, healthy: true })],
    });
  });
});

describe('with the real Backstage scheduler', () => {
  let mock: MockOpenChoreo;
  let catalog: TestCatalog;

  beforeAll(async () => {
    mock = await MockOpenChoreo.start(['--namespaces', '1', '--projects', '2', '--components', '3']);
    catalog = await startCatalog({
      // burstInterval 1 s, restLength 0: a new cycle on every scheduler run.
      config: openChoreoConfig(mock.url),
      features: [schedulerServiceFactory as never],
    });
  });

  afterAll(async () => {
    await catalog?.stop();
    await mock?.stop();
  });

  it('ingests and follows deletions on its own schedule, without manual triggers', async () => {
    const summary = await mock.summary();
    const total = summary.namespaces + summary.projects + summary.components + summary.endpointsWithSchema;
    await waitFor('all entities in the catalog', async () => {
      const list = await providerEntities(catalog.server);
      return list.length === total ? list : undefined;
    });

    const [ns] = await mock.namespaces();
    const [victim] = await mock.names(ns, 'components');
    await mock.deleteComponent(ns, victim);
    const victimRef = `component:${ns}/${victim}`.toLowerCase();
    await waitFor(
      'the scheduler to run a cycle that removes the deleted component',
      async () => {
        const list = await providerEntities(catalog.server);
        return list.some(e => entityRef(e) === victimRef) ? undefined : true;
      },
      { timeoutMs: 60000, intervalMs: 500 },
    );
    const status = (await request(catalog.server).get(`${base}/status`)).body;
    expect(status.cycle).toBeGreaterThanOrEqual(2);
  });
});
