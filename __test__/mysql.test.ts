// A Backstage backend whose database is MySQL (MariaDB here, client mysql2): the catalog
// on it, this module deriving its state database from backend.database, ingesting the
// stand-in. Needs the server at 127.0.0.1:3306 (root, no password; OC_TEST_MYSQL_URL
// overrides it); skipped without one, except in CI.
import knexFactory, { type Knex } from 'knex';
import request from 'supertest';
import { MockOpenChoreo } from './support/mock';
import {
  entityRef,
  expectedRefs,
  openChoreoConfig,
  providerEntities,
  startCatalog,
  waitFor,
  type TestCatalog,
} from './support/backend';

const PROVIDER = 'OpenChoreoEntityProvider';
const server = new URL(process.env.OC_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test');
const connection = {
  host: server.hostname,
  port: Number(server.port || 3306),
  user: decodeURIComponent(server.username),
  password: decodeURIComponent(server.password),
};
// Backstage creates `<prefix><pluginId>` databases: a prefix of this run's own, so that
// concurrent runs on the shared server do not meet.
const prefix = `oc_jest_${process.pid}_${Date.now().toString(36)}_`;

describe('a Backstage backend on MySQL (MariaDB)', () => {
  let admin: Knex;
  let mock: MockOpenChoreo | undefined;
  let catalog: TestCatalog | undefined;
  let available = true;

  beforeAll(async () => {
    admin = knexFactory({ client: 'mysql2', connection });
    try {
      await admin.raw('SELECT 1');
    } catch (e) {
      if (process.env.CI === 'true') throw e;
      available = false;
      // eslint-disable-next-line no-console
      console.warn(`MySQL not reachable at ${server.host}, skipped: ${(e as Error).message}`);
    }
  });

  afterAll(async () => {
    await catalog?.stop();
    await mock?.stop();
    if (available) {
      const [rows] = await admin.raw('SHOW DATABASES LIKE ?', [`${prefix}%`]);
      for (const row of rows as Record<string, string>[]) {
        await admin.raw(`DROP DATABASE IF EXISTS \`${Object.values(row)[0]}\``);
      }
    }
    await admin.destroy();
  });

  it('keeps the engine state in the catalog plugin database and ingests every entity', async () => {
    if (!available) return;
    mock = await MockOpenChoreo.start(['--namespaces', '2', '--projects', '2', '--components', '3']);
    catalog = await startCatalog({
      config: {
        backend: { database: { client: 'mysql2', prefix, connection } },
        ...openChoreoConfig(mock.url, { chunkSize: 10 }),
      },
    });
    const summary = await mock.summary();
    const total = summary.namespaces + summary.projects + summary.components + summary.endpointsWithSchema;
    const entities = await waitFor('all entities in the catalog', async () => {
      const list = await providerEntities(catalog!.server);
      if (list.length >= total) return list;
      await request(catalog!.server).post(`/api/catalog/incremental/providers/${PROVIDER}/refresh`);
      return undefined;
    });
    expect(entities).toHaveLength(total);
    const refs = new Set(entities.map(entityRef));
    for (const ref of await expectedRefs(mock)) expect(refs).toContain(ref);

    // The engine's tables are in the catalog plugin's database, next to the catalog's.
    const [tables] = await admin.raw(
      "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = ? AND table_name LIKE 'oc\\_ingest\\_%'",
      [`${prefix}catalog`],
    );
    const names = (tables as { t: string }[]).map(r => r.t).sort();
    expect(names).toEqual(expect.arrayContaining(['oc_ingest_entities', 'oc_ingest_migrations', 'oc_ingest_providers']));
    const [[owned]] = await admin.raw(`SELECT COUNT(*) AS n FROM \`${prefix}catalog\`.oc_ingest_entities WHERE provider = ?`, [
      PROVIDER,
    ]);
    expect(Number((owned as { n: number }).n)).toBe(total);
    const status = await request(catalog.server).get(`/api/catalog/incremental/providers/${PROVIDER}/status`).expect(200);
    expect(status.body.ownedEntities).toBe(total);
  });
});
