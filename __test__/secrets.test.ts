// Security: the OpenChoreo token and database passwords appear in no log line (every
// call on the root logger and its children, with meta, plus anything written to stdout,
// stderr or the console), no status or health response; a base URL with credentials is
// shown redacted.
import * as net from 'node:net';
import * as util from 'node:util';
import request from 'supertest';
import { coreServices, createServiceFactory, type LoggerService } from '@backstage/backend-plugin-api';
import { mockCredentials } from '@backstage/backend-test-utils';
import { MockOpenChoreo } from './support/mock';
import { openChoreoConfig, startCatalog, waitFor, type TestCatalog } from './support/backend';

const TOKEN = 'tok-SECRET-5';
const EXPLICIT_DB_PASSWORD = 'pw-SECRET-6';
const BACKEND_DB_PASSWORD = 'pw-SECRET-7';
const BASE_URL_PASSWORD = 'pw-SECRET-8';
const CLIENT_SECRET = 'cs-SECRET-9';
/** Every token the stand-in issues starts with this. */
const ISSUED_TOKEN = 'mock-at-';

// `pg` (a dependency of Backstage's database service) ships no type declarations.
interface PgClient {
  connect(): Promise<void>;
  query(sql: string): Promise<unknown>;
  end(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-var-requires
const { Client } = require('pg') as { Client: new (options: Record<string, unknown>) => PgClient };

const PG_HOST = '127.0.0.1';
const PG_PORT = 5432;
/** A database of this test's own for the `backend.database` case (dropped afterwards). */
const DB_PREFIX = `oc_secrets_${process.pid}_`;

interface LogLine {
  level: string;
  message: string;
  meta: unknown;
}

/** Everything logged through Backstage's root logger and every child of it. */
class RecordingLogger implements LoggerService {
  constructor(readonly lines: LogLine[], private readonly fields: Record<string, unknown> = {}) {}
  private record(level: string, message: string, meta?: Error | Record<string, unknown>) {
    const extra = meta instanceof Error ? { error: `${meta.name}: ${meta.message}`, stack: meta.stack } : meta ?? {};
    this.lines.push({ level, message: String(message), meta: { ...this.fields, ...extra } });
  }
  error(message: string, meta?: Error | Record<string, unknown>) {
    this.record('error', message, meta);
  }
  warn(message: string, meta?: Error | Record<string, unknown>) {
    this.record('warn', message, meta);
  }
  info(message: string, meta?: Error | Record<string, unknown>) {
    this.record('info', message, meta);
  }
  debug(message: string, meta?: Error | Record<string, unknown>) {
    this.record('debug', message, meta);
  }
  child(meta: Record<string, unknown>): LoggerService {
    return new RecordingLogger(this.lines, { ...this.fields, ...meta });
  }
}

function recordingRootLogger(lines: LogLine[]) {
  return createServiceFactory({
    service: coreServices.rootLogger,
    deps: {},
    factory: () => new RecordingLogger(lines),
  });
}

/** Everything written to stdout, stderr or the console while a test runs. */
function captureOutput(): { text: () => string; restore: () => void } {
  const chunks: string[] = [];
  const restores: Array<() => void> = [];
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write;
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
      return (original as (...a: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof stream.write;
    restores.push(() => {
      stream.write = original;
    });
  }
  for (const method of ['log', 'info', 'warn', 'error', 'debug'] as const) {
    const spy = jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      chunks.push(util.format(...args));
    });
    restores.push(() => spy.mockRestore());
  }
  return { text: () => chunks.join(''), restore: () => restores.forEach(r => r()) };
}

async function postgresAvailable(): Promise<boolean> {
  const ok = await new Promise<boolean>(resolve => {
    const socket = net.connect({ host: PG_HOST, port: PG_PORT });
    socket.setTimeout(3000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
  if (!ok) {
    if (process.env.CI === 'true') throw new Error(`CI=true but PostgreSQL is not reachable at ${PG_HOST}:${PG_PORT}`);
    // eslint-disable-next-line no-console
    console.warn(`SKIPPED: PostgreSQL not reachable at ${PG_HOST}:${PG_PORT}; the PostgreSQL cases are skipped`);
  }
  return ok;
}

const ADMIN = mockCredentials.user.header('user:default/admin');

/** Refreshes the provider, then waits until its status shows the failed (401) burst. */
async function driveAuthFailure(server: TestCatalog['server'], provider: string) {
  const p = `/api/catalog/incremental/providers/${provider}`;
  const refresh = await request(server).post(`${p}/refresh`).set('Authorization', ADMIN);
  expect(refresh.status).toBe(200);
  const status = await waitFor('the 401 in the status', async () => {
    const res = await request(server).get(`${p}/status`).set('Authorization', ADMIN);
    return res.status === 200 && String(res.body.lastError ?? '').includes('401') ? res : undefined;
  });
  const other = await request(server).get(p).set('Authorization', ADMIN);
  const list = await request(server).get('/api/catalog/incremental/providers').set('Authorization', ADMIN);
  const health = await request(server).get('/api/catalog/incremental/health');
  expect([200, 503]).toContain(health.status);
  expect(health.body.providers).toEqual([expect.objectContaining({ name: provider, healthy: false })]);
  return {
    status: status.text,
    responses: [status.text, other.text, list.text, health.text, refresh.text],
  };
}

function logText(lines: LogLine[]): string {
  return lines.map(l => `${l.level} ${l.message} ${JSON.stringify(l.meta)}`).join('\n');
}

function expectNoSecret(what: string, text: string) {
  const at = text.indexOf('SECRET');
  if (at >= 0) {
    throw new Error(`${what} shows a secret: ...${text.slice(Math.max(0, at - 300), at + 100)}...`);
  }
}

describe('secrets stay out of logs and responses', () => {
  let mock: MockOpenChoreo;
  let pg = false;
  const savedLevel = process.env.LOG_LEVEL;

  beforeAll(async () => {
    pg = await postgresAvailable();
    // The stand-in expects another token: every burst fails with 401.
    mock = await MockOpenChoreo.start(['--namespaces', '1', '--projects', '1', '--components', '1', '--token', 'other-token']);
    // The engine forwards its own events from this level up.
    process.env.LOG_LEVEL = 'debug';
  });

  afterAll(async () => {
    if (savedLevel === undefined) delete process.env.LOG_LEVEL;
    else process.env.LOG_LEVEL = savedLevel;
    await mock?.stop();
  });

  it('a wrong token and openchoreo.incremental.database.url with a password', async () => {
    const lines: LogLine[] = [];
    const output = captureOutput();
    // A provider name of its own: the state lives in the shared `test` database.
    const provider = `SecretsExplicit${process.pid}x${Date.now()}`;
    const databaseUrl = pg
      ? `postgres://postgres:${EXPLICIT_DB_PASSWORD}@${PG_HOST}:${PG_PORT}/test`
      : 'sqlite::memory:';
    const config = openChoreoConfig(mock.url, { providerName: provider, database: { url: databaseUrl }, backoff: [60] });
    (config.openchoreo as Record<string, unknown>).token = TOKEN;
    let catalog: TestCatalog | undefined;
    let shown: Awaited<ReturnType<typeof driveAuthFailure>>;
    try {
      catalog = await startCatalog({ config, features: [recordingRootLogger(lines) as never] });
      shown = await driveAuthFailure(catalog.server, provider);
    } finally {
      await catalog?.stop();
      output.restore();
    }

    expect(shown.status).toContain('openchoreo.token');
    for (const r of shown.responses) expectNoSecret('a management response', r);
    const logs = logText(lines);
    expectNoSecret('a log line or its meta', logs);
    expectNoSecret('stdout/stderr/console', output.text());

    // The capture works: the start-up check, the failed burst (from the module and from
    // the engine's own forwarded events) and the state database (redacted) are there.
    expect(lines.length).toBeGreaterThan(5);
    expect(logs).toMatch(/OpenChoreo API check failed \(AUTH\).*openchoreo\.token/);
    expect(logs).toMatch(/OpenChoreo ingestion burst of .* failed: AUTH.*401/);
    expect(lines.some(l => l.message.includes('burst failed') && JSON.stringify(l.meta).includes('engineTarget'))).toBe(true);
    if (pg) expect(logs).toContain(`postgres://***@${PG_HOST}:${PG_PORT}/test`);
  });

  it('OAuth2 client credentials: a refused secret, then issued tokens', async () => {
    const lines: LogLine[] = [];
    const output = captureOutput();
    // The identity provider knows the client with another secret at first.
    const idp = await MockOpenChoreo.start(['--namespaces', '1', '--projects', '1', '--components', '1', '--oauth-client', 'catalog:other']);
    const provider = `SecretsOAuth${process.pid}x${Date.now()}`;
    const config = openChoreoConfig(idp.url, { providerName: provider, backoff: [60] });
    (config.openchoreo as Record<string, unknown>).auth = {
      clientId: 'catalog',
      clientSecret: CLIENT_SECRET,
      tokenUrl: `${idp.url}/oauth2/token`,
      scope: 'openid',
    };
    let catalog: TestCatalog | undefined;
    let shown: Awaited<ReturnType<typeof driveAuthFailure>>;
    const texts: string[] = [];
    try {
      catalog = await startCatalog({ config, features: [recordingRootLogger(lines) as never] });
      shown = await driveAuthFailure(catalog.server, provider);
      // Now the secret is right: a cycle runs on issued tokens.
      await idp.patchOAuth({ clients: { catalog: CLIENT_SECRET } });
      const p = `/api/catalog/incremental/providers/${provider}`;
      await request(catalog.server).post(`${p}/refresh`).set('Authorization', ADMIN);
      const done = await waitFor('a completed cycle on issued tokens', async () => {
        const res = await request(catalog!.server).get(`${p}/status`).set('Authorization', ADMIN);
        return res.body.lastCompletedCycle ? res : undefined;
      });
      texts.push(done.text);
      const { stats } = await idp.patchOAuth({});
      expect(stats.tokensIssued).toBeGreaterThanOrEqual(1);
    } finally {
      await catalog?.stop();
      output.restore();
      await idp.stop();
    }

    expect(shown.status).toContain(`POST ${idp.url}/oauth2/token`);
    expect(shown.status).toContain('openchoreo.auth.clientSecret');
    for (const text of [...shown.responses, ...texts, logText(lines), output.text()]) {
      expectNoSecret('a response, log line or output', text);
      expect(text).not.toContain(ISSUED_TOKEN);
    }
    // The capture works: the refusal reached the log.
    expect(logText(lines)).toMatch(/AUTH.*invalid_client/);
  });

  it('backend.database (pg) with a password and a base URL with credentials', async () => {
    if (!pg) return;
    const lines: LogLine[] = [];
    const output = captureOutput();
    const baseUrl = mock.url.replace('http://', `http://user:${BASE_URL_PASSWORD}@`);
    const config = {
      ...openChoreoConfig(baseUrl, { backoff: [60] }),
      backend: {
        database: {
          client: 'pg',
          prefix: DB_PREFIX,
          connection: { host: PG_HOST, port: PG_PORT, user: 'postgres', password: BACKEND_DB_PASSWORD },
        },
      },
    };
    (config.openchoreo as Record<string, unknown>).token = TOKEN;
    let catalog: TestCatalog | undefined;
    let shown: Awaited<ReturnType<typeof driveAuthFailure>>;
    try {
      catalog = await startCatalog({ config, features: [recordingRootLogger(lines) as never] });
      shown = await driveAuthFailure(catalog.server, 'OpenChoreoEntityProvider');
    } finally {
      await catalog?.stop();
      output.restore();
      const admin = new Client({ host: PG_HOST, port: PG_PORT, user: 'postgres', database: 'test' });
      await admin.connect();
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${DB_PREFIX}catalog" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    }

    for (const r of shown.responses) expectNoSecret('a management response', r);
    // With a token configured, the engine drops the URL's credentials altogether.
    expect(shown.status).toMatch(/http:\/\/127\.0\.0\.1:\d+\/api\/v1/);
    const logs = logText(lines);
    expectNoSecret('a log line or its meta', logs);
    expectNoSecret('stdout/stderr/console', output.text());

    expect(logs).toMatch(/OpenChoreo ingestion burst of .* failed: AUTH.*401/);
    // The derived state database and the base URL, both redacted where they are shown.
    expect(logs).toContain(`postgres://***@${PG_HOST}:${PG_PORT}/${DB_PREFIX}catalog`);
    expect(logs).toContain('http://***@127.0.0.1');
  });
});
