// The catalog consistency check and its repair, on a real catalog whose SQLite file the
// test damages the way a killed backend can leave it (backstage/backstage#35734): search
// rows gone, or an entity processed but never stitched. The module itself only uses the
// catalog's API; the test opens the catalog's file to do the damage.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import request from 'supertest';
import { MockOpenChoreo } from './support/mock';
import { entityRef, openChoreoConfig, providerEntities, startCatalog, waitFor, type TestCatalog } from './support/backend';

const PROVIDER = 'OpenChoreoEntityProvider';
const base = `/api/catalog/incremental/providers/${PROVIDER}`;
const HEAL = 'openchoreo.io/catalog-heal';

// The catalog's own SQLite driver (no type declarations installed).
interface SqliteDb {
  prepare(sql: string): { get(...args: unknown[]): unknown; run(...args: unknown[]): unknown };
  close(): void;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const Database = require('better-sqlite3') as new (file: string) => SqliteDb;

describe('catalog consistency check', () => {
  let mock: MockOpenChoreo;
  let dir: string;
  let catalog: TestCatalog;
  let all: string[];

  beforeAll(async () => {
    mock = await MockOpenChoreo.start(['--namespaces', '2', '--projects', '2', '--components', '3']);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oc-consistency-'));
    catalog = await startCatalog({
      config: {
        backend: { database: { client: 'better-sqlite3', connection: { directory: dir } } },
        // Checked on demand only: the automatic check would race the test's damage.
        ...openChoreoConfig(mock.url, { consistencyCheckDelay: 3600 }),
      },
    });
    const status = await waitFor('the first cycle', async () => {
      const res = await request(catalog.server).get(`${base}/status`).expect(200);
      if (res.body.lastCompletedCycle) return res.body;
      await request(catalog.server).post(`${base}/refresh`);
      return undefined;
    });
    all = (
      await waitFor('the catalog to list every owned entity', async () => {
        const list = await providerEntities(catalog.server);
        return list.length === status.ownedEntities ? list : undefined;
      })
    ).map(entityRef);
  });

  afterAll(async () => {
    await catalog?.stop();
    await mock?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const check = async (heal: string) =>
    (await request(catalog.server).post(`${base}/consistency`).query({ heal }).expect(200)).body;

  it('finds nothing to repair in a healthy catalog', async () => {
    const body = await check('false');
    expect(body.report).toMatchObject({ listed: all.length, listedOwned: all.length, unlisted: 0, healMarked: 0 });
    const status = (await request(catalog.server).get(`${base}/status`).expect(200)).body;
    expect(status.consistency).toMatchObject({ unlisted: 0, listed: all.length });
    expect(status.healPending).toBe(0);
  });

  it('rejects an unknown heal mode', async () => {
    const res = await request(catalog.server).post(`${base}/consistency`).query({ heal: 'maybe' });
    expect(res.status).toBe(400);
    expect(res.body.error.message).toContain("heal must be true, false or now, got 'maybe'");
  });

  it('finds entities without search rows or stitch, and a heal brings them back', async () => {
    // Two entities lose their search rows; a third was "processed but never stitched".
    const [lostSearch1, lostSearch2, unstitched] = [
      all.find(r => r.startsWith('component:'))!,
      all.find(r => r.startsWith('api:'))!,
      all.find(r => r.startsWith('system:'))!,
    ];
    const damaged = [lostSearch1, lostSearch2, unstitched].sort();
    const db = new Database(path.join(dir, 'catalog.sqlite'));
    try {
      const id = (ref: string) =>
        (db.prepare('SELECT entity_id FROM refresh_state WHERE lower(entity_ref) = ?').get(ref) as { entity_id: string })
          .entity_id;
      for (const ref of damaged) db.prepare('DELETE FROM search WHERE entity_id = ?').run(id(ref));
      db.prepare('UPDATE final_entities SET final_entity = NULL WHERE entity_id = ?').run(id(unstitched));
    } finally {
      db.close();
    }
    const listed = (await providerEntities(catalog.server)).map(entityRef);
    for (const ref of damaged) expect(listed).not.toContain(ref);

    // Another cycle alone does not repair them: the catalog skips unchanged entities.
    const cycle = (await request(catalog.server).get(`${base}/status`)).body.lastCompletedCycle.cycle;
    await waitFor('another plain cycle', async () => {
      const res = await request(catalog.server).get(`${base}/status`).expect(200);
      if (res.body.lastCompletedCycle.cycle > cycle) return true;
      await request(catalog.server).post(`${base}/refresh`);
      return undefined;
    });
    const afterPlainCycle = (await providerEntities(catalog.server)).map(entityRef);
    for (const ref of damaged) expect(afterPlainCycle).not.toContain(ref);

    // The check names them and marks them to be handed over again; `now` starts a cycle.
    const body = await check('now');
    expect(body.report.unlisted).toBe(damaged.length);
    expect([...body.report.unlistedSample].sort()).toEqual(damaged);
    expect(body.report.healMarked).toBe(damaged.length);
    expect(body.report.listed).toBe(all.length - damaged.length);

    const healed = await waitFor('the damaged entities to be listed again', async () => {
      const list = await providerEntities(catalog.server);
      const refs = list.map(entityRef);
      if (damaged.every(r => refs.includes(r))) return list;
      await request(catalog.server).post(`${base}/refresh`);
      return undefined;
    });
    expect(healed.map(entityRef).sort()).toEqual([...all].sort());
    for (const e of healed) {
      expect(e.metadata.annotations?.[HEAL] !== undefined).toBe(damaged.includes(entityRef(e)));
    }
    expect((await request(catalog.server).get(`${base}/status`).expect(200)).body.healPending).toBe(damaged.length);

    // The next check finds the catalog whole again and ends the heal: the following
    // cycle hands the entities without the annotation, and the catalog takes that too.
    expect((await check('true')).report).toMatchObject({ unlisted: 0, listed: all.length, healed: damaged.length });
    expect((await request(catalog.server).get(`${base}/status`).expect(200)).body.healPending).toBe(0);
    await request(catalog.server).post(`${base}/refresh`).expect(200);
    const plain = await waitFor('the annotation to go', async () => {
      const list = await providerEntities(catalog.server);
      if (list.length === all.length && list.every(e => e.metadata.annotations?.[HEAL] === undefined)) return list;
      await request(catalog.server).post(`${base}/refresh`);
      return undefined;
    });
    expect(plain.map(entityRef).sort()).toEqual([...all].sort());
  });
});
