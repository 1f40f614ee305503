// The management routes: authentication, permissions, errors.
import request from 'supertest';
import { coreServices, createServiceFactory } from '@backstage/backend-plugin-api';
import { mockCredentials } from '@backstage/backend-test-utils';
import { AuthorizeResult } from '@backstage/plugin-permission-common';
import { MockOpenChoreo } from './support/mock';
import { openChoreoConfig, startCatalog, type TestCatalog } from './support/backend';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import knexFactory from 'knex';
import { IngestionEngine } from '../js/src/native';
import { stallOverdue } from '../js/src/router';

const PROVIDER = 'OpenChoreoEntityProvider';
const P = `/api/catalog/incremental/providers/${PROVIDER}`;

const ADMIN = 'user:default/admin';
const READER = 'user:default/reader';
const GUEST = 'user:default/guest';

/**
 * admin: everything; reader: `catalog.ingestion.read` but not `.manage`; guest: neither.
 * Every other permission (the catalog's own) is allowed, so the catalog works.
 */
function decide(permission: string, principal: { type: string; userEntityRef?: string }): AuthorizeResult {
  if (!permission.startsWith('catalog.ingestion.')) return AuthorizeResult.ALLOW;
  if (principal.type === 'service') return AuthorizeResult.ALLOW;
  if (principal.userEntityRef === ADMIN) return AuthorizeResult.ALLOW;
  if (principal.userEntityRef === READER && permission === 'catalog.ingestion.read') return AuthorizeResult.ALLOW;
  return AuthorizeResult.DENY;
}

const permissionsByUser = createServiceFactory({
  service: coreServices.permissions,
  deps: {},
  factory: () => {
    const authorize = async (
      requests: Array<{ permission: { name: string } }>,
      options?: { credentials?: { principal?: unknown } },
    ) => {
      const principal = (options?.credentials?.principal ?? { type: 'none' }) as { type: string; userEntityRef?: string };
      return requests.map(r => ({ result: decide(r.permission.name, principal) }));
    };
    return { authorize, authorizeConditional: authorize } as never;
  },
});

const reads: Array<[string, string]> = [
  ['GET', '/api/catalog/incremental/providers'],
  ['GET', P],
  ['GET', `${P}/status`],
];
const writes: Array<[string, string]> = [
  ['POST', `${P}/reset`],
  ['POST', `${P}/refresh`],
  ['POST', `${P}/trigger`],
  ['POST', `${P}/cancel`],
];

function call(server: TestCatalog['server'], method: string, path: string, auth?: string) {
  const r = method === 'GET' ? request(server).get(path) : request(server).post(path);
  return auth ? r.set('Authorization', auth) : r;
}

describe('management routes', () => {
  let mock: MockOpenChoreo;
  let catalog: TestCatalog;

  beforeAll(async () => {
    mock = await MockOpenChoreo.start(['--namespaces', '1', '--projects', '2', '--components', '2']);
    catalog = await startCatalog({
      config: openChoreoConfig(mock.url),
      features: [permissionsByUser as never],
    });
  });

  afterAll(async () => {
    await catalog?.stop();
    await mock?.stop();
  });

  it.each([...reads, ...writes])('%s %s refuses a caller without credentials (401)', async (method, path) => {
    const res = await call(catalog.server, method, path, mockCredentials.none.header());
    expect(res.status).toBe(401);
    const bad = await call(catalog.server, method, path, mockCredentials.user.invalidHeader());
    expect(bad.status).toBe(401);
  });

  it.each([...reads, ...writes])('%s %s refuses a caller without permission (403)', async (method, path) => {
    const res = await call(catalog.server, method, path, mockCredentials.user.header(GUEST));
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ name: 'NotAllowedError' });
    expect(res.body.error.message).toMatch(/catalog\.ingestion\.(read|manage)/);
  });

  it.each(writes)('%s %s needs catalog.ingestion.manage, not just read (403)', async (method, path) => {
    const res = await call(catalog.server, method, path, mockCredentials.user.header(READER));
    expect(res.status).toBe(403);
    expect(res.body.error.message).toContain('catalog.ingestion.manage');
  });

  it.each(reads)('%s %s works with catalog.ingestion.read', async (method, path) => {
    const res = await call(catalog.server, method, path, mockCredentials.user.header(READER));
    expect(res.status).toBe(200);
  });

  it('GET /providers lists the provider with its status', async () => {
    const res = await call(catalog.server, 'GET', '/api/catalog/incremental/providers', mockCredentials.user.header(ADMIN));
    expect(res.status).toBe(200);
    expect(res.body.providers).toEqual([
      expect.objectContaining({ name: PROVIDER, taskId: `openchoreo-incremental:${PROVIDER}`, status: expect.objectContaining({ provider: PROVIDER }) }),
    ]);
  });

  it('GET /providers/:name and /providers/:name/status return the status object', async () => {
    const a = await call(catalog.server, 'GET', P, mockCredentials.user.header(ADMIN));
    const b = await call(catalog.server, 'GET', `${P}/status`, mockCredentials.user.header(ADMIN));
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ provider: PROVIDER, progress: expect.any(Object) });
    expect(Object.keys(a.body).sort()).toEqual(Object.keys(b.body).sort());
  });

  it.each(writes)('%s %s works with catalog.ingestion.manage', async (method, path) => {
    const res = await call(catalog.server, method, path, mockCredentials.user.header(ADMIN));
    expect(res.status).toBe(200);
    expect(res.body.provider).toBe(PROVIDER);
  });

  it('accepts service credentials that hold the permission', async () => {
    const res = await call(catalog.server, 'GET', `${P}/status`, mockCredentials.service.header());
    expect(res.status).toBe(200);
  });

  it('answers 404 JSON for an unknown provider', async () => {
    for (const [method, path] of [
      ['GET', '/api/catalog/incremental/providers/nope'],
      ['GET', '/api/catalog/incremental/providers/nope/status'],
      ['POST', '/api/catalog/incremental/providers/nope/refresh'],
    ]) {
      const res = await call(catalog.server, method, path, mockCredentials.user.header(ADMIN));
      expect(res.status).toBe(404);
      expect(res.body.error).toMatchObject({ name: 'NotFoundError' });
      expect(res.body.error.message).toContain("'nope'");
    }
  });

  it('keeps /incremental/health open', async () => {
    const res = await call(catalog.server, 'GET', '/api/catalog/incremental/health', mockCredentials.none.header());
    expect(res.status).toBe(200);
    expect(res.body.providers[0].name).toBe(PROVIDER);
  });
});

describe('management routes when OpenChoreo refuses the token', () => {
  const TOKEN = 'wrong-token-5f0d1c';
  let mock: MockOpenChoreo;
  let catalog: TestCatalog;

  beforeAll(async () => {
    mock = await MockOpenChoreo.start(['--namespaces', '1', '--token', 'the-right-token']);
    const config = openChoreoConfig(mock.url, { backoff: [600] });
    (config.openchoreo as Record<string, unknown>).token = TOKEN;
    catalog = await startCatalog({ config });
  });

  afterAll(async () => {
    await catalog?.stop();
    await mock?.stop();
  });

  it('reports the failure in status and health without leaking the token', async () => {
    const status = await call(catalog.server, 'GET', `${P}/status`);
    expect(status.status).toBe(200);
    expect(status.body.attempts).toBeGreaterThanOrEqual(1);
    expect(status.body.lastError).toMatch(/AUTH|401/);
    expect(JSON.stringify(status.body)).not.toContain(TOKEN);

    const health = await call(catalog.server, 'GET', '/api/catalog/incremental/health', mockCredentials.none.header());
    expect(health.status).toBe(503);
    expect(health.body.healthy).toBe(false);
    expect(JSON.stringify(health.body)).not.toContain(TOKEN);

    const detail = await call(catalog.server, 'GET', P);
    expect(JSON.stringify(detail.body)).not.toContain(TOKEN);
  });
});

describe('management routes with the default auth policy disabled (demo setups)', () => {
  let mock: MockOpenChoreo;
  let catalog: TestCatalog;

  beforeAll(async () => {
    mock = await MockOpenChoreo.start(['--namespaces', '1']);
    catalog = await startCatalog({
      config: { ...openChoreoConfig(mock.url), backend: { auth: { dangerouslyDisableDefaultAuthPolicy: true } } },
    });
  });

  afterAll(async () => {
    await catalog?.stop();
    await mock?.stop();
  });

  it('lets an unauthenticated caller through when permissions allow it', async () => {
    const res = await call(catalog.server, 'GET', `${P}/status`, mockCredentials.none.header());
    expect(res.status).toBe(200);
    const post = await call(catalog.server, 'POST', `${P}/refresh`, mockCredentials.none.header());
    expect(post.status).toBe(200);
  });
});

describe('status, providers list and health when the burst holder has stopped', () => {
  const DEAD = 'dead-host:4242:0.0';
  let mock: MockOpenChoreo;
  let catalog: TestCatalog;
  let until: number;

  beforeAll(async () => {
    mock = await MockOpenChoreo.start(['--namespaces', '1']);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-stalled-'));
    const url = `sqlite://${path.join(dir, 'state.sqlite')}`;
    // The state a process killed mid-burst leaves: the row says bursting, the lease is
    // its own, a 120 s lease (as before issue 17) last renewed 90 s ago: overdue (no
    // renewal for more than two of its 40 s heartbeats), expiring in 30 s.
    const engine = await IngestionEngine.open({ baseUrl: mock.url, databaseUrl: url, providerName: PROVIDER });
    await engine.status();
    await engine.close();
    until = Date.now() + 30_000;
    const db = knexFactory({ client: 'better-sqlite3', connection: { filename: path.join(dir, 'state.sqlite') }, useNullAsDefault: true });
    await db('oc_ingest_providers')
      .where({ name: PROVIDER })
      .update({ status: 'bursting', status_since: until - 120_000, next_action_at: 0, lease_owner: DEAD, lease_until: until, lease_ttl_ms: 120_000 });
    await db.destroy();
    catalog = await startCatalog({
      config: { ...openChoreoConfig(mock.url, { database: { url } }), backend: { auth: { dangerouslyDisableDefaultAuthPolicy: true } } },
    });
  });

  afterAll(async () => {
    await catalog?.stop();
    await mock?.stop();
  });

  it('says stalled (never bursting), since the last renewal, with the lease and what comes next', async () => {
    const res = await call(catalog.server, 'GET', `${P}/status`);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      currentAction: 'stalled',
      currentActionSince: until - 120_000,
      nextAction: 'take over the burst',
      nextActionAt: until,
      lease: { holder: DEAD, heldHere: false, until, renewedAt: until - 120_000, state: 'overdue' },
    });

    const list = await call(catalog.server, 'GET', '/api/catalog/incremental/providers');
    expect(list.body.providers[0].status).toMatchObject({ currentAction: 'stalled', lease: { holder: DEAD } });

    // The takeover is 30 s away, as expected: not (yet) unhealthy, but not bursting.
    const health = await call(catalog.server, 'GET', '/api/catalog/incremental/health');
    expect(health.body.providers[0]).toMatchObject({
      name: PROVIDER,
      healthy: true,
      currentAction: 'stalled',
      currentActionSince: until - 120_000,
      nextActionAt: until,
    });
    expect(JSON.stringify(health.body)).not.toContain(DEAD);
  });

  it('calls a stall unhealthy once it outlasts the takeover by burstInterval + 15 s', () => {
    const s = { currentAction: 'stalled', nextActionAt: 1_000_000 };
    expect(stallOverdue(s, 30, 1_000_000 + 45_000)).toBe(false);
    expect(stallOverdue(s, 30, 1_000_000 + 45_001)).toBe(true);
    expect(stallOverdue({ ...s, currentAction: 'bursting' }, 30, 2_000_000)).toBe(false);
  });
});
