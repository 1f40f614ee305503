// Backstage's services used where Backstage has them: the metrics service (read back
// with OpenTelemetry's in-memory exporter), the auditor (the real one, with the caller
// it resolves from the request), and the scheduler's abort signal (the engine's cancel).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { coreServices, createServiceFactory, type SchedulerService } from '@backstage/backend-plugin-api';
import { DefaultAuditorService } from '@backstage/backend-defaults/auditor';
import { mockCredentials, mockServices } from '@backstage/backend-test-utils';
import type { EntityProviderConnection } from '@backstage/plugin-catalog-node';
import { MockOpenChoreo } from './support/mock';
import { openChoreoConfig, startCatalog, type TestCatalog } from './support/backend';
import { IngestionEngine } from '../js/src/native';
import { OpenChoreoIncrementalEntityProvider } from '../js/src/provider';
import { BURST_DURATION_BUCKETS, PAGE_DURATION_BUCKETS } from '../js/src/metrics';
import { AUDIT_EVENT_ID } from '../js/src/router';

const PROVIDER = 'OpenChoreoEntityProvider';
const P = `/api/catalog/incremental/providers/${PROVIDER}`;
const ADMIN = 'user:default/admin';

type AuditedEvent = Parameters<Parameters<typeof DefaultAuditorService.create>[0]>[0];

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise(r => setTimeout(r, 200));
  }
}

describe('metrics and audit events through Backstage services', () => {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const audited: AuditedEvent[] = [];
  // The real auditor: it resolves the caller from the request with the real httpAuth.
  const collectingAuditor = createServiceFactory({
    service: coreServices.auditor,
    deps: { auth: coreServices.auth, httpAuth: coreServices.httpAuth, plugin: coreServices.pluginMetadata },
    factory: deps =>
      DefaultAuditorService.create(event => {
        audited.push(event);
      }, deps),
  });
  let mock: MockOpenChoreo;
  let catalog: TestCatalog;
  let cycle: { pages: number; entities: number };

  beforeAll(async () => {
    // Backstage's metrics service makes its meters from the global provider.
    metrics.setGlobalMeterProvider(meterProvider);
    mock = await MockOpenChoreo.start(['--namespaces', '2', '--projects', '2', '--components', '3']);
    // restLength 10 min: exactly one cycle runs, so the counts below are that cycle's.
    catalog = await startCatalog({
      config: openChoreoConfig(mock.url, { chunkSize: 2, restLength: 10 }),
      features: [collectingAuditor as never],
    });
    cycle = await until('a completed cycle', async () => {
      const res = await request(catalog.server).get(`${P}/status`);
      return res.body?.lastCompletedCycle ?? undefined;
    });
  });

  afterAll(async () => {
    await catalog?.stop();
    await mock?.stop();
    await meterProvider.shutdown();
    metrics.disable();
  });

  async function collected(): Promise<Map<string, MetricData>> {
    await reader.forceFlush();
    const out = new Map<string, MetricData>();
    for (const resource of exporter.getMetrics()) {
      for (const scope of resource.scopeMetrics) {
        // The catalog plugin's meter, as Backstage's metrics service names it.
        if (scope.scope.name !== 'backstage-plugin-catalog') continue;
        for (const m of scope.metrics) out.set(m.descriptor.name, m);
      }
    }
    return out;
  }

  function histogram(m: MetricData | undefined) {
    expect(m?.dataPointType).toBe(DataPointType.HISTOGRAM);
    return m!.dataPoints.map(p => ({ attributes: p.attributes, value: p.value as { count: number; sum?: number; buckets: { boundaries: number[] } } }));
  }

  it('records burst durations, page read times and catalog writes as histograms, in seconds', async () => {
    const all = await collected();

    const bursts = histogram(all.get('catalog_openchoreo_incremental.burst.duration'));
    expect(all.get('catalog_openchoreo_incremental.burst.duration')!.descriptor.unit).toBe('s');
    expect(bursts.map(b => b.attributes)).toEqual([{ provider: PROVIDER, action: 'burst' }]);
    expect(bursts[0].value.count).toBeGreaterThanOrEqual(1);
    expect(bursts[0].value.sum).toBeGreaterThan(0);
    expect(bursts[0].value.buckets.boundaries).toEqual(BURST_DURATION_BUCKETS);

    // One read time per page the cycle read: the engine's own count.
    const fetches = histogram(all.get('catalog_openchoreo_incremental.page.fetch.duration'));
    expect(fetches.map(f => f.attributes)).toEqual([{ provider: PROVIDER }]);
    expect(cycle.pages).toBeGreaterThan(10);
    expect(fetches[0].value.count).toBe(cycle.pages);
    expect(fetches[0].value.sum).toBeGreaterThan(0);
    expect(fetches[0].value.buckets.boundaries).toEqual(PAGE_DURATION_BUCKETS);

    const applies = histogram(all.get('catalog_openchoreo_incremental.page.apply.duration'));
    expect(applies[0].value.count).toBeGreaterThanOrEqual(1);
    expect(applies[0].value.count).toBeLessThanOrEqual(cycle.pages);

    const entities = all.get('catalog_openchoreo_incremental.entities');
    expect(entities?.dataPoints.map(p => p.value)).toEqual([cycle.entities]);
    expect(all.get('catalog_openchoreo_incremental.owned_entities')?.dataPoints.map(p => p.value)).toEqual([cycle.entities]);
  });

  it('records each management write with the caller, and failures as failed', async () => {
    audited.length = 0;
    const ours = () => audited.filter(e => e.eventId === AUDIT_EVENT_ID && e.status !== 'initiated');
    const post = (route: string, header: string) => request(catalog.server).post(`${P}/${route}`).set('Authorization', header);

    expect((await post('refresh', mockCredentials.user.header(ADMIN))).status).toBe(200);
    expect((await post('trigger', mockCredentials.user.header(ADMIN))).status).toBe(200);
    expect((await post('cancel', mockCredentials.service.header())).status).toBe(200);
    expect((await post('reset', mockCredentials.user.header(ADMIN))).status).toBe(200);
    // A refused request is recorded as a failure, with the error the caller got.
    expect((await post('consistency?heal=sometimes', mockCredentials.user.header(ADMIN))).status).toBe(400);

    const events = ours();
    expect(events.map(e => [e.meta?.actionType, e.status, e.actor.actorId])).toEqual([
      ['refresh', 'succeeded', ADMIN],
      ['trigger', 'succeeded', ADMIN],
      ['cancel', 'succeeded', mockCredentials.service().principal.subject],
      ['reset', 'succeeded', ADMIN],
      ['consistency-check', 'failed', ADMIN],
    ]);
    for (const e of events) {
      expect(e).toMatchObject({ plugin: 'catalog', severityLevel: 'medium', meta: { provider: PROVIDER } });
      expect(e.request?.method).toBe('POST');
    }
    expect(events[0].meta).toMatchObject({ triggered: expect.any(Boolean) });
    const failed = events[4] as AuditedEvent & { error?: Error };
    expect(failed.error?.message).toContain("heal must be true, false or now, got 'sometimes'");
    // Reads are not audited by this module.
    await request(catalog.server).get(`${P}/status`).set('Authorization', mockCredentials.user.header(ADMIN));
    expect(ours()).toHaveLength(5);
  });
});

describe("the scheduler's abort signal", () => {
  let mock: MockOpenChoreo;
  let dir: string;

  beforeAll(async () => {
    mock = await MockOpenChoreo.start(['--namespaces', '2', '--projects', '3', '--components', '4']);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-abort-'));
  });

  afterAll(async () => {
    await mock?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A provider whose scheduled task function is returned to the test, connected to a
   * catalog stand-in that holds the first page until `release`.
   */
  async function scheduled(file: string) {
    const options = { baseUrl: mock.url, databaseUrl: `sqlite://${path.join(dir, file)}`, chunkSize: 2, burstLengthSeconds: 60, restLengthMinutes: 10 };
    const engine = await IngestionEngine.open(options);
    let fn: ((signal: AbortSignal) => Promise<void>) | undefined;
    const scheduler = {
      scheduleTask: async (task: { fn: (signal: AbortSignal) => Promise<void> }) => {
        fn = task.fn;
      },
    } as unknown as SchedulerService;
    const provider = new OpenChoreoIncrementalEntityProvider({
      engine,
      scheduler,
      logger: mockServices.logger.mock(),
      burstLength: 60,
      burstInterval: 1,
    });
    let applied = 0;
    let firstPage!: () => void;
    const firstPageIn = new Promise<void>(resolve => {
      firstPage = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>(resolve => {
      release = resolve;
    });
    await provider.connect({
      applyMutation: async () => {
        applied++;
        if (applied === 1) {
          firstPage();
          await released;
        }
      },
      refresh: async () => {},
    } as EntityProviderConnection);
    return { engine, provider, fn: fn!, firstPageIn, release, applied: () => applied, reopen: () => IngestionEngine.open(options) };
  }

  it('cancels the running burst through the engine: the burst stops after its page and the cycle is dropped', async () => {
    const { engine, provider, fn, firstPageIn, release, applied } = await scheduled('cancel.sqlite');
    try {
      const controller = new AbortController();
      const running = fn(controller.signal);
      await firstPageIn;
      controller.abort();
      // The cancel is the engine's: it writes the provider's state while the page is held.
      await until('the canceled cycle', async () => ((await engine.status()).currentAction === 'resting' ? true : undefined), 10000);
      release();
      await running;
      const status = await engine.status();
      expect(status.lastError).toContain('canceled');
      expect(status.lastCompletedCycle).toBeNull();
      expect(applied()).toBe(1);
    } finally {
      await provider.close();
    }
  });

  it('leaves the cycle alone when the abort comes from shutdown (close lets the burst go on, bounded)', async () => {
    const { provider, fn, firstPageIn, release, applied, reopen } = await scheduled('shutdown.sqlite');
    const controller = new AbortController();
    const running = fn(controller.signal);
    await firstPageIn;
    // Backstage stops plugins (our close) before the root scheduler aborts its tasks.
    const closing = provider.close();
    controller.abort();
    release();
    await Promise.all([running, closing]);
    expect(applied()).toBeGreaterThan(1);
    const engine = await reopen();
    try {
      // The small installation fits in one burst: not canceled, the cycle completed.
      const status = await engine.status();
      expect(status.lastError ?? '').not.toContain('canceled');
      expect(status.lastCompletedCycle).not.toBeNull();
    } finally {
      await engine.close();
    }
  });
});
