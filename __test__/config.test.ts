// Config reading, state database derivation, and start-up failures on bad config.
import { ConfigReader } from '@backstage/config';
import type { JsonObject } from '@backstage/types';
import { readOpenChoreoIncrementalConfig, toEngineOptions, DEFAULTS } from '../js/src/config';
import { resolveStateDatabase, redactUrls } from '../js/src/database';
import { eventsOptions } from '../js/src/events';
import { startupFailure } from './support/backend';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

const noDb = { getClient: jest.fn(async () => ({}) as never) };

function read(openchoreo: JsonObject, warn = jest.fn()) {
  return readOpenChoreoIncrementalConfig(new ConfigReader({ openchoreo }), { warn });
}

describe('readOpenChoreoIncrementalConfig', () => {
  it('applies the documented defaults', () => {
    const o = read({ baseUrl: 'http://oc:8080' });
    expect(o).toEqual({
      providerName: 'OpenChoreoEntityProvider',
      baseUrl: 'http://oc:8080',
      token: undefined,
      defaultOwner: 'group:default/openchoreo-users',
      burstLength: 10,
      burstInterval: 30,
      restLength: 30,
      chunkSize: 50,
      backoff: [60, 300, 1800, 10800],
      rejectRemovalsAbovePercentage: undefined,
      rejectEmptySourceCollections: true,
      domainOwnerFromAnnotation: false,
      requestTimeout: undefined,
      leaseTtl: undefined,
      databaseUrl: undefined,
      consistencyCheckDelay: 300,
    });
    expect(DEFAULTS.backoff).toEqual([60, 300, 1800, 10800]);
  });

  it('reads the consistency check settings', () => {
    expect(read({ baseUrl: 'http://oc', incremental: { consistencyCheckDelay: 0 } }).consistencyCheckDelay).toBe(0);
    expect(read({ baseUrl: 'http://oc', incremental: { consistencyCheck: false } }).consistencyCheckDelay).toBeUndefined();
    expect(() => read({ baseUrl: 'http://oc', incremental: { consistencyCheckDelay: -1 } })).toThrow(
      'openchoreo.incremental.consistencyCheckDelay must be a non-negative number of seconds, got -1',
    );
  });

  it('maps every key to the engine options', () => {
    const o = read({
      baseUrl: 'https://oc.example/api/v1',
      token: 'tok',
      defaultOwner: 'platform-team',
      incremental: {
        burstLength: 3,
        burstInterval: 7,
        restLength: 0.5,
        chunkSize: 20,
        backoff: [5, 10],
        rejectRemovalsAbovePercentage: 25,
        rejectEmptySourceCollections: false,
        domainOwnerFromAnnotation: true,
        requestTimeout: 12,
        leaseTtl: 4,
        providerName: 'oc-prod',
        database: { url: 'sqlite::memory:' },
      },
    });
    expect(toEngineOptions(o, 'sqlite::memory:')).toEqual({
      providerName: 'oc-prod',
      baseUrl: 'https://oc.example/api/v1',
      token: 'tok',
      defaultOwner: 'group:default/platform-team',
      databaseUrl: 'sqlite::memory:',
      chunkSize: 20,
      burstLengthSeconds: 3,
      burstIntervalSeconds: 7,
      restLengthMinutes: 0.5,
      backoffSeconds: [5, 10],
      rejectRemovalsAbovePercentage: 25,
      rejectEmptySourceCollections: false,
      domainOwnerFromAnnotation: true,
      requestTimeoutSeconds: 12,
      leaseTtlSeconds: 4,
    });
    expect(o.databaseUrl).toBe('sqlite::memory:');
  });

  describe('OAuth2 client credentials (openchoreo.auth, openchoreo.features.auth.enabled)', () => {
    const auth = {
      clientId: 'backstage',
      clientSecret: 'cs-123',
      tokenUrl: 'https://idp.example/oauth2/token',
      scope: 'openid api://oc/.default',
    };

    it('reads the legacy keys and hands them to the engine', () => {
      const o = read({ baseUrl: 'http://x', auth });
      expect(o.clientCredentials).toEqual(auth);
      expect(o.token).toBeUndefined();
      expect(toEngineOptions(o, 'sqlite::memory:').clientCredentials).toEqual(auth);
      const { scope: _none, ...withoutScope } = auth;
      expect(read({ baseUrl: 'http://x', auth: withoutScope }).clientCredentials).toEqual(withoutScope);
    });

    it('features.auth.enabled: false leaves them unused (with a warning), as the legacy module', () => {
      for (const enabled of [false, 'false']) {
        const warn = jest.fn();
        const o = read({ baseUrl: 'http://x', token: 'tok', auth, features: { auth: { enabled } } }, warn);
        expect(o.clientCredentials).toBeUndefined();
        expect(o.token).toBe('tok');
        expect(warn).toHaveBeenCalledWith(expect.stringMatching(/openchoreo\.features\.auth\.enabled is false.*openchoreo\.auth\.clientId/));
        expect(warn.mock.calls.join(' ')).not.toContain('cs-123');
      }
      expect(read({ baseUrl: 'http://x', auth, features: { auth: { enabled: true } } }).clientCredentials).toEqual(auth);
    });

    it('an auth block without credentials (unset environment variables) is no auth', () => {
      expect(read({ baseUrl: 'http://x', auth: {} }).clientCredentials).toBeUndefined();
      const warn = jest.fn();
      expect(read({ baseUrl: 'http://x', auth: { scope: 'openid' } }, warn).clientCredentials).toBeUndefined();
      expect(warn).toHaveBeenCalledWith(expect.stringContaining('openchoreo.auth.scope is set without client credentials'));
    });

    it.each([
      [{ auth: { clientId: 'a', tokenUrl: 'https://idp/token' } }, /openchoreo\.auth\.clientSecret is missing/],
      [{ auth: { clientSecret: 'cs-123' } }, /openchoreo\.auth\.clientId, openchoreo\.auth\.tokenUrl are missing/],
      [{ auth: { ...auth, tokenUrl: 'idp.example/token' } }, /openchoreo\.auth\.tokenUrl must be an http:\/\/ or https:\/\/ URL/],
      [{ token: 'tok', auth }, /openchoreo\.token and openchoreo\.auth \(client credentials\) are both set/],
    ])('refuses %j naming the keys', (extra, message) => {
      let error: Error | undefined;
      try {
        read({ baseUrl: 'http://x', ...extra });
      } catch (e) {
        error = e as Error;
      }
      expect(error?.message).toMatch(message);
      expect(error?.message).not.toContain('cs-123');
    });
  });

  it('keeps a full owner ref as written', () => {
    expect(read({ baseUrl: 'http://x', defaultOwner: 'group:platform/admins' }).defaultOwner).toBe('group:platform/admins');
    expect(read({ baseUrl: 'http://x', defaultOwner: 'platform/admins' }).defaultOwner).toBe('group:platform/admins');
  });

  it('clamps chunkSize above 100 with a warning', () => {
    const warn = jest.fn();
    expect(read({ baseUrl: 'http://x', incremental: { chunkSize: 512 } }, warn).chunkSize).toBe(100);
    expect(warn).toHaveBeenCalledWith(expect.stringContaining('openchoreo.incremental.chunkSize 512'));
  });

  it.each([
    [{}, /openchoreo\.baseUrl/],
    [{ baseUrl: 'oc.example' }, /openchoreo\.baseUrl must be an http:\/\/ or https:\/\/ URL, got "oc\.example"/],
    [{ baseUrl: 'http://x', incremental: { chunkSize: 0 } }, /openchoreo\.incremental\.chunkSize must be a whole number from 1 to 100, got 0/],
    [{ baseUrl: 'http://x', incremental: { chunkSize: 'many' } }, /openchoreo\.incremental\.chunkSize/],
    [{ baseUrl: 'http://x', incremental: { burstLength: 0 } }, /openchoreo\.incremental\.burstLength must be a positive number of seconds, got 0/],
    [{ baseUrl: 'http://x', incremental: { burstInterval: -5 } }, /openchoreo\.incremental\.burstInterval/],
    [{ baseUrl: 'http://x', incremental: { restLength: -1 } }, /openchoreo\.incremental\.restLength must be a non-negative number of minutes/],
    [{ baseUrl: 'http://x', incremental: { backoff: [] } }, /openchoreo\.incremental\.backoff must be a non-empty list/],
    [{ baseUrl: 'http://x', incremental: { backoff: [60, 'x'] } }, /openchoreo\.incremental\.backoff\[1\]/],
    [{ baseUrl: 'http://x', incremental: { rejectRemovalsAbovePercentage: 101 } }, /rejectRemovalsAbovePercentage must be a number from 0 to 100, got 101/],
    [{ baseUrl: 'http://x', incremental: { rejectEmptySourceCollections: 'maybe' } }, /openchoreo\.incremental\.rejectEmptySourceCollections/],
    [{ baseUrl: 'http://x', incremental: { leaseTtl: 0 } }, /openchoreo\.incremental\.leaseTtl must be a positive number of seconds, got 0/],
  ])('rejects %j naming the key', (openchoreo, message) => {
    expect(() => read(openchoreo)).toThrow(message);
  });
});

describe('eventsOptions', () => {
  const events = (e: JsonObject) => eventsOptions(new ConfigReader({ openchoreo: { baseUrl: 'http://oc:8080', events: e } }));
  it('leaves the engine its defaults, passes workers, and is off when disabled', () => {
    expect(events({})).toEqual({});
    expect(events({ workers: 32 })).toEqual({ workers: 32 });
    expect(events({ enabled: false, workers: 32 })).toBeUndefined();
  });
  it('names the key of a bad worker count', () => {
    for (const workers of [0, 2.5, 65]) {
      expect(() => events({ workers })).toThrow(`Invalid config: openchoreo.events.workers must be an integer from 1 to 64, got ${workers}`);
    }
  });
});

describe('resolveStateDatabase', () => {
  const resolve = (database: JsonObject, explicit?: string) =>
    resolveStateDatabase(new ConfigReader({ backend: { database } }), noDb, explicit);

  it('prefers openchoreo.incremental.database.url, redacted for logs', async () => {
    const db = await resolve({ client: 'pg', connection: 'postgres://u:pw@h/x' }, 'postgres://me:secret@db:5432/state');
    expect(db.url).toBe('postgres://me:secret@db:5432/state');
    expect(db.redacted).toBe('postgres://***@db:5432/state');
  });

  it('uses memory without backend.database', async () => {
    const db = await resolveStateDatabase(new ConfigReader({}), noDb);
    expect(db.url).toBe('sqlite::memory:');
  });

  it('pg (object): the catalog plugin database, after Backstage created it', async () => {
    const getClient = jest.fn(async () => ({}) as never);
    const db = await resolveStateDatabaseWith(getClient, {
      client: 'pg',
      connection: { host: 'db.internal', port: 5433, user: 'backstage', password: 'p@ss/word', database: 'ignored' },
    });
    expect(getClient).toHaveBeenCalled();
    expect(db.url).toBe('postgres://backstage:p%40ss%2Fword@db.internal:5433/backstage_plugin_catalog');
    expect(db.redacted).toBe('postgres://***@db.internal:5433/backstage_plugin_catalog');
    expect(db.redacted).not.toContain('word');
  });

  it('pg (string), prefix, per-plugin database and ssl', async () => {
    expect((await resolve({ client: 'pg', connection: 'postgresql://u:p@h:5432/main', prefix: 'bs_' })).url).toBe(
      'postgres://u:p@h:5432/bs_catalog',
    );
    expect(
      (await resolve({
        client: 'pg',
        connection: { host: 'h', user: 'u', password: 'p', ssl: { rejectUnauthorized: false } },
        plugin: { catalog: { connection: { database: 'catalog_db' } } },
      })).url,
    ).toBe('postgres://u:p@h/catalog_db?sslmode=require');
  });

  it('pg with pluginDivisionMode: schema uses the catalog schema of the configured database', async () => {
    const db = await resolve({
      client: 'pg',
      pluginDivisionMode: 'schema',
      connection: { host: 'h', port: 5432, user: 'u', password: 'p', database: 'backstage' },
    });
    expect(db.url).toBe('postgres://u:p@h:5432/backstage?options%5Bsearch_path%5D=catalog');
  });

  it('sqlite :memory: stays in memory', async () => {
    expect((await resolve({ client: 'better-sqlite3', connection: ':memory:' })).url).toBe('sqlite::memory:');
  });

  it('sqlite directory or file: a SEPARATE file next to the catalog one', async () => {
    const dir = await resolve({ client: 'better-sqlite3', connection: { directory: '/var/lib/backstage' } });
    expect(dir.url).toBe('sqlite:///var/lib/backstage/openchoreo-incremental.sqlite');
    const file = await resolve({
      client: 'better-sqlite3',
      connection: { directory: '/var/lib/backstage' },
      plugin: { catalog: { connection: { filename: 'data/catalog.db' } } },
    });
    expect(file.url).toBe(`sqlite://${path.resolve('/var/lib/backstage/data/openchoreo-incremental.sqlite')}`);
    expect(file.url).not.toContain('catalog.db');
  });

  it('refuses an unsupported client naming the keys', async () => {
    await expect(resolve({ client: 'oracledb', connection: {} })).rejects.toThrow(
      /backend\.database\.client 'oracledb'.*openchoreo\.incremental\.database\.url/,
    );
  });

  it.each(['mysql', 'mysql2'])('%s: the catalog plugin database, as for pg', async client => {
    const getClient = jest.fn(async () => ({}) as never);
    const db = await resolveStateDatabaseWith(getClient, {
      client,
      connection: { host: 'db.internal', port: 3307, user: 'backstage', password: 'p@ss/word', database: 'ignored' },
    });
    expect(getClient).toHaveBeenCalled();
    expect(db.url).toBe('mysql://backstage:p%40ss%2Fword@db.internal:3307/backstage_plugin_catalog');
    expect(db.redacted).toBe('mysql://***@db.internal:3307/backstage_plugin_catalog');
    expect(db.source).toBe(`backend.database (${client}, database backstage_plugin_catalog)`);
    // A connection string, a prefix, and the catalog's own database.
    expect((await resolve({ client, connection: 'mysql://u:p@h:3306/main', prefix: 'bs_' })).url).toBe(
      'mysql://u:p@h:3306/bs_catalog',
    );
    expect(
      (await resolve({ client, connection: 'mysql://u:p@h/main', plugin: { catalog: { connection: { database: 'cat' } } } })).url,
    ).toBe('mysql://u:p@h/cat');
  });

  it('mysql2: a per-plugin client and connection override the base ones', async () => {
    const db = await resolve({
      client: 'pg',
      connection: { host: 'pg.internal', user: 'pguser', password: 'pgpw' },
      plugin: { catalog: { client: 'mysql2', connection: { host: 'my.internal', user: 'cat', password: 'catpw' } } },
    });
    expect(db.url).toBe('mysql://cat:catpw@my.internal/backstage_plugin_catalog');
    expect(db.url).not.toContain('pg');
  });

  it('mysql2: ssl verifies the server unless rejectUnauthorized is false; ca becomes a CA file', async () => {
    const verify = await resolve({ client: 'mysql2', connection: { host: 'h', user: 'u', ssl: true } });
    expect(verify.url).toBe('mysql://u@h/backstage_plugin_catalog?ssl-mode=VERIFY_IDENTITY');
    const encrypt = await resolve({ client: 'mysql2', connection: { host: 'h', user: 'u', ssl: { rejectUnauthorized: false } } });
    expect(encrypt.url).toBe('mysql://u@h/backstage_plugin_catalog?ssl-mode=REQUIRED');
    const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
    for (const [client, param, mode] of [['mysql2', 'ssl-ca', 'VERIFY_IDENTITY'], ['pg', 'sslrootcert', 'verify-full']]) {
      const withCa = await resolve({ client, connection: { host: 'h', user: 'u', ssl: { ca: pem } } });
      const url = new URL(withCa.url);
      expect(url.searchParams.get(client === 'pg' ? 'sslmode' : 'ssl-mode')).toBe(mode);
      const file = url.searchParams.get(param)!;
      expect(fs.readFileSync(file, 'utf8')).toBe(pem);
      expect(fs.statSync(file).mode & 0o077).toBe(0);
    }
  });

  it.each([
    [{ client: 'mysql2', connection: { type: 'cloudsql', instance: 'p:r:i' } }, /backend\.database\.connection\.type 'cloudsql'/],
    [{ client: 'pg', connection: { type: 'azure' } }, /backend\.database\.connection\.type 'azure'/],
    [
      { client: 'mysql', connection: { host: 'h' }, plugin: { catalog: { connection: { type: 'rds' } } } },
      /backend\.database\.plugin\.catalog\.connection\.type 'rds'/,
    ],
    [{ client: 'mysql2', pluginDivisionMode: 'schema', connection: { host: 'h' } }, /backend\.database\.pluginDivisionMode 'schema'/],
    [{ client: 'mysql2', connection: { host: 'h', password: 'pw-123', ssl: 'Amazon RDS' } }, /backend\.database\.connection\.ssl 'Amazon RDS'/],
  ])('refuses %j naming the key and the alternative', async (database, message) => {
    const failure = resolve(database as JsonObject);
    await expect(failure).rejects.toThrow(message);
    await expect(failure).rejects.toThrow(/set openchoreo\.incremental\.database\.url/);
    await expect(failure).rejects.not.toThrow(/pw-123/);
  });

  it('redacts every URL credential in a text', () => {
    expect(redactUrls('a postgres://u:p@h/x and https://tok@api/y')).toBe('a postgres://***@h/x and https://***@api/y');
  });

  async function resolveStateDatabaseWith(getClient: jest.Mock, database: JsonObject) {
    return resolveStateDatabase(new ConfigReader({ backend: { database } }), { getClient });
  }
});

describe('start-up with bad config', () => {
  it.each([
    [{ openchoreo: { incremental: {} } }, 'openchoreo.baseUrl'],
    [{ openchoreo: { baseUrl: 'http://127.0.0.1:9', incremental: { chunkSize: 0 } } }, 'openchoreo.incremental.chunkSize'],
    [{ openchoreo: { baseUrl: 'http://127.0.0.1:9', incremental: { burstLength: 'soon' } } }, 'openchoreo.incremental.burstLength'],
    [
      { openchoreo: { baseUrl: 'http://127.0.0.1:9', token: 'tok', auth: { clientId: 'a', clientSecret: 'pw-123', tokenUrl: 'http://127.0.0.1:9/t' } } },
      'openchoreo.token and openchoreo.auth',
    ],
    [{ openchoreo: { baseUrl: 'http://127.0.0.1:9', auth: { clientSecret: 'pw-123' } } }, 'openchoreo.auth.clientId'],
    // Checked by the engine itself (INVALID_CONFIG from open).
    [
      { openchoreo: { baseUrl: 'http://127.0.0.1:9', incremental: { database: { url: 'oracle://app:pw-123@db/x' } } } },
      'openchoreo.incremental.database.url',
    ],
  ])('%j fails naming %s', async (config, key) => {
    const message = await startupFailure(config);
    expect(message).toContain(key);
    expect(message).not.toContain('pw-123');
  });
});

describe('start-up against a server that is not OpenChoreo', () => {
  let server: http.Server;
  let url: string;

  beforeAll(async () => {
    server = http.createServer((_req, res) => {
      // JSON, but not the cursor-paginated envelope.
      res.setHeader('content-type', 'application/json');
      res.end('[]');
    });
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', () => resolve()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise(resolve => server.close(resolve));
  });

  it('refuses to start, naming openchoreo.baseUrl and the URL', async () => {
    const message = await startupFailure({ openchoreo: { baseUrl: url } });
    expect(message).toContain('openchoreo.baseUrl');
    expect(message).toContain(url);
    expect(message).toMatch(/not a current \(cursor-paginated\) OpenChoreo API/);
  });
});
