// This module through the Node addon: the Rust engine walks, translates, stages and
// commits; each page reaches JavaScript as the JSON of `applyMutation`'s argument and is
// handed on exactly as the Backstage module does (js/src/provider.ts:
// `json => connection.applyMutation(JSON.parse(json))`).
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

export async function setup(options, connection) {
  const { IngestionEngine } = require(join(root, 'index.js'));
  const engine = await IngestionEngine.open({
    providerName: options.providerName,
    baseUrl: options.baseUrl,
    databaseUrl: options.databaseUrl,
    chunkSize: options.chunkSize,
    burstLengthSeconds: 3600, // one burst covers the cycle
    burstIntervalSeconds: 0,
    restLengthMinutes: 600, // no second cycle
    backoffSeconds: [1],
  });
  const sink = async json => {
    await connection.applyMutation(JSON.parse(json));
  };
  return {
    async cycle() {
      let ticks = 0;
      for (;;) {
        const report = await engine.tick(sink);
        ticks += 1;
        if (report.action === 'failed') throw new Error(`burst failed: ${report.error}`);
        if (report.cycleCompleted) return { ticks, pages: report.pages };
        if (ticks > 1000) throw new Error('the cycle did not complete in 1000 ticks');
      }
    },
    async teardown() {
      await engine.close();
    },
  };
}
