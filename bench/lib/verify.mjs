// Before measuring: the JavaScript providers (Backstage-engine provider, legacy-shaped
// provider) must produce exactly the entities the Rust engine produces. Checked on a small
// installation with a page size of 7, so that lists span pages and cross-references cross
// page boundaries.
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { CountingConnection } from './counting.mjs';
import { entityRef } from './openchoreo.mjs';
import { startMock } from './mock.mjs';
import { OpenChoreoIncrementalProvider } from '../contenders/backstage-provider.mjs';
import * as legacy from '../contenders/legacy.mjs';

const canon = v =>
  Array.isArray(v)
    ? v.map(canon)
    : v && typeof v === 'object'
      ? Object.fromEntries(Object.keys(v).sort().map(k => [k, canon(v[k])]))
      : v;
const BASIC_KINDS = new Set(['Domain', 'System', 'Component', 'API']);
const byRef = entities => new Map(entities.map(e => [entityRef(e), JSON.stringify(canon(e))]));

export async function verifyEquivalence({ root, mockBin }) {
  const require = createRequire(import.meta.url);
  const mock = await startMock(mockBin, { namespaces: 3, projects: 4, components: 9, endpoints: 3, schemaShare: 0.5, dependencies: 2 });
  try {
    const chunkSize = 7;
    // The Rust engine, through the addon.
    const { IngestionEngine } = require(join(root, 'index.js'));
    const engine = await IngestionEngine.open({
      baseUrl: mock.url,
      databaseUrl: 'sqlite::memory:',
      chunkSize,
      burstLengthSeconds: 3600,
      burstIntervalSeconds: 0,
      restLengthMinutes: 600,
    });
    const rust = new CountingConnection({ keep: true });
    try {
      for (let i = 0; i < 100; i++) {
        const report = await engine.tick(async json => rust.applyMutation(JSON.parse(json)));
        if (report.action === 'failed') throw new Error(`the addon's burst failed: ${report.error}`);
        if (report.cycleCompleted) break;
      }
    } finally {
      await engine.close();
    }

    // The provider for Backstage's engine, driven the way the engine drives it.
    const provider = new OpenChoreoIncrementalProvider({ baseUrl: mock.url, chunkSize });
    const backstage = [];
    await provider.around(async context => {
      let cursor;
      for (let i = 0; i < 10000; i++) {
        const page = await provider.next(context, cursor);
        for (const d of page.entities ?? []) backstage.push(d.entity);
        if (page.done) return;
        cursor = JSON.parse(JSON.stringify(page.cursor)); // persisted as JSON between pages
      }
      throw new Error('the provider did not finish');
    });

    const legacyConnection = new CountingConnection({ keep: true });
    await (await legacy.setup({ baseUrl: mock.url, chunkSize }, legacyConnection)).cycle();

    // The four basic kinds compare whole; the platform kinds (a generic translation in the
    // JavaScript contenders, see platformEntities) by ref.
    const basic = e => BASIC_KINDS.has(e.kind);
    const contentOrRef = entities =>
      new Map([...byRef(entities.filter(basic)), ...entities.filter(e => !basic(e)).map(e => [entityRef(e), 'ref'])]);
    const expected = contentOrRef(rust.kept);
    const problems = [];
    for (const [name, entities] of [
      ['Backstage-engine provider', backstage],
      ['legacy-shaped provider', legacyConnection.kept],
    ]) {
      const got = contentOrRef(entities);
      let diffs = 0;
      let example;
      for (const [ref, json] of expected) {
        if (got.get(ref) !== json) {
          diffs += 1;
          example ??= ref;
        }
      }
      const extra = [...got.keys()].filter(ref => !expected.has(ref)).length;
      if (diffs || extra || entities.length !== rust.kept.length) {
        problems.push(`${name}: ${diffs} differ (e.g. ${example}), ${extra} extra, ${entities.length} vs ${rust.kept.length}`);
      }
    }
    const kinds = {};
    for (const e of rust.kept) kinds[e.kind] = (kinds[e.kind] ?? 0) + 1;
    const summary = `${rust.kept.length} entities (${Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(', ')})`;
    return problems.length ? { ok: false, summary: `${summary}; ${problems.join('; ')}` } : { ok: true, summary };
  } finally {
    await mock.stop();
  }
}
