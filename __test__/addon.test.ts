// The napi binding on its own: error codes, the sink, status, the logger bridge.
import { IngestionEngine, setLogger, type TickReport } from '../js/src/native';
import { forwardEngineLogs } from '../js/src/logging';
import { MockOpenChoreo } from './support/mock';

// Native errors are not `instanceof Error` under jest (another realm): assert on code/message.
async function rejection(p: Promise<unknown>): Promise<{ code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    return e as { code?: string; message: string };
  }
  throw new Error('expected a rejection');
}

describe('IngestionEngine (native addon)', () => {
  let mock: MockOpenChoreo;

  beforeAll(async () => {
    mock = await MockOpenChoreo.start(['--namespaces', '2', '--projects', '2', '--components', '3']);
  });
  afterAll(async () => {
    await mock?.stop();
  });

  it.each([
    [{ baseUrl: 'ftp://example' }, 'openchoreo.baseUrl'],
    [{ baseUrl: '' }, 'openchoreo.baseUrl'],
    [{ baseUrl: 'http://x', chunkSize: 0 }, 'openchoreo.incremental.chunkSize'],
    [{ baseUrl: 'http://x', chunkSize: 2.5 }, 'openchoreo.incremental.chunkSize'],
    [{ baseUrl: 'http://x', restLengthMinutes: -1 }, 'openchoreo.incremental.restLength'],
    [{ baseUrl: 'http://x', burstLengthSeconds: 0 }, 'openchoreo.incremental.burstLength'],
    [{ baseUrl: 'http://x', backoffSeconds: [] }, 'openchoreo.incremental.backoff'],
    [{ baseUrl: 'http://x', backoffSeconds: [60, Number.NaN] }, 'openchoreo.incremental.backoff[1]'],
    [{ baseUrl: 'http://x', rejectRemovalsAbovePercentage: 150 }, 'rejectRemovalsAbovePercentage'],
    [{ baseUrl: 'http://x', providerName: ' ' }, 'openchoreo.incremental.providerName'],
  ])('open(%j) rejects with INVALID_CONFIG naming %s', async (options, key) => {
    const e = await rejection(IngestionEngine.open(options));
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.message).toContain(key);
  });

  it('never echoes a database password in a config error', async () => {
    const e = await rejection(
      IngestionEngine.open({ baseUrl: 'http://x', databaseUrl: 'mssql://app:s3cret-pw@db/x' }),
    );
    expect(e.code).toBe('INVALID_CONFIG');
    expect(e.message).toContain('openchoreo.incremental.database.url');
    expect(e.message).not.toContain('s3cret-pw');
  });

  it('walks the stand-in into delta mutations, reports status, and rejects after close', async () => {
    const engine = await IngestionEngine.open({ baseUrl: mock.url, burstLengthSeconds: 10, restLengthMinutes: 0 });
    expect(engine.providerName).toBe('OpenChoreoEntityProvider');
    await engine.probe();

    const added: Array<{ entity: { kind: string; metadata: { name: string } }; locationKey: string }> = [];
    let report: TickReport | undefined;
    for (let i = 0; i < 20 && !report?.cycleCompleted; i++) {
      report = await engine.tick(async json => {
        const m = JSON.parse(json);
        expect(m.type).toBe('delta');
        added.push(...m.added);
      });
    }
    expect(report?.cycleCompleted).toBe(true);
    const summary = await mock.summary();
    const kinds = added.reduce<Record<string, number>>((acc, a) => {
      acc[a.entity.kind] = (acc[a.entity.kind] ?? 0) + 1;
      return acc;
    }, {});
    expect(kinds).toEqual({
      Domain: summary.namespaces,
      System: summary.projects,
      Component: summary.components,
      API: summary.endpointsWithSchema,
    });
    expect(new Set(added.map(a => a.locationKey))).toEqual(new Set(['provider:OpenChoreoEntityProvider']));

    const status = await engine.status();
    expect(status).toMatchObject({ provider: 'OpenChoreoEntityProvider', cycle: 1, attempts: 0, lastError: null });
    expect(status.lastCompletedCycle?.entities).toBe(added.length);
    expect(status.ownedEntities).toBe(added.length);

    await engine.close();
    await engine.close(); // idempotent
    const e = await rejection(engine.status());
    expect(e.code).toBe('CLOSED');
  });

  it('turns a throwing or rejecting sink into a failed burst, not a crash', async () => {
    const engine = await IngestionEngine.open({ baseUrl: mock.url, backoffSeconds: [0] });
    try {
      const sync = await engine.tick(() => {
        throw new Error('catalog down (sync)');
      });
      expect(sync.action).toBe('failed');
      expect(sync.error).toContain('catalog down (sync)');

      await engine.refresh();
      const async_ = await engine.tick(async () => {
        throw new Error('catalog down (async)');
      });
      expect(async_.action).toBe('failed');
      expect(async_.error).toContain('catalog down (async)');
      expect((await engine.status()).attempts).toBe(2);
    } finally {
      await engine.close();
    }
  });

  it('forwards tracing events to the JS logger with structured fields', async () => {
    const lines: Array<{ level: string; message: string; fields: Record<string, unknown> }> = [];
    expect(
      setLogger((level, message, fields) => {
        lines.push({ level, message, fields: JSON.parse(fields) });
      }, 'info'),
    ).toBe(true);
    const engine = await IngestionEngine.open({ baseUrl: mock.url, providerName: 'logged-provider' });
    await engine.close();
    // Delivery is asynchronous (a queue to the JS thread): poll, bounded.
    const deadline = Date.now() + 5000;
    while (!lines.some(l => l.fields.provider === 'logged-provider') && Date.now() < deadline) {
      await new Promise(r => setTimeout(r, 20));
    }
    const opened = lines.find(l => l.fields.provider === 'logged-provider');
    expect(opened).toBeDefined();
    expect(opened!.level).toBe('info');
    expect(typeof opened!.message).toBe('string');
    expect(String(opened!.fields.target)).toMatch(/^openchoreo_incremental/);
    setLogger(() => {}, 'error');
  });

  it('routes engine logs to a Backstage LoggerService with their fields', async () => {
    const calls: Array<[string, string, Record<string, unknown>]> = [];
    const record = (level: string) => (message: string, meta?: Record<string, unknown>) => {
      calls.push([level, message, meta ?? {}]);
    };
    const logger = {
      error: record('error'),
      warn: record('warn'),
      info: record('info'),
      debug: record('debug'),
      child: () => logger,
    };
    expect(forwardEngineLogs(logger as never, 'info')).toBe(true);
    const engine = await IngestionEngine.open({ baseUrl: mock.url, providerName: 'routed-provider' });
    await engine.close();
    const deadline = Date.now() + 5000;
    while (!calls.some(c => c[2].provider === 'routed-provider') && Date.now() < deadline) {
      await new Promise(r => setTimeout(r, 20));
    }
    const line = calls.find(c => c[2].provider === 'routed-provider');
    expect(line?.[0]).toBe('info');
    expect(String(line?.[2].engineTarget)).toMatch(/^openchoreo_incremental/);
    expect(calls.every(c => c[0] !== 'debug')).toBe(true);
    setLogger(() => {}, 'error');
  });

  it('rejects an unknown log level', () => {
    expect(() => setLogger(() => {}, 'loud' as never)).toThrow(/level must be one of/);
  });
});
