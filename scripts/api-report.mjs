#!/usr/bin/env node
// The API report of the package's public surface, `report.api.md` (api-extractor, as
// Backstage's packages keep one). `npm run api-report` writes it; `--check` (run by
// `__test__/apiReport.test.ts`) fails when js/src's exports no longer match it.
//
// The declarations are compiled from js/src into .api-report/ (one folder below the root,
// like dist/, so `../index` still reaches the addon's index.d.ts), never read from a
// possibly stale dist/.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const { Extractor, ExtractorConfig } = require('@microsoft/api-extractor');
const check = process.argv.includes('--check');
const out = join(root, '.api-report');

rmSync(out, { recursive: true, force: true });
const tsc = spawnSync(
  process.execPath,
  [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--emitDeclarationOnly', '--sourceMap', 'false', '--outDir', out],
  { cwd: root, stdio: 'inherit' },
);
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const config = ExtractorConfig.loadFileAndPrepare(join(root, 'api-extractor.json'));
const result = Extractor.invoke(config, { localBuild: !check, showVerboseMessages: false });
rmSync(out, { recursive: true, force: true });
if (!result.succeeded) {
  console.error(
    result.apiReportChanged && check
      ? 'The public API differs from report.api.md: run `npm run api-report` and commit report.api.md (keep the surface small).'
      : `api-extractor failed: ${result.errorCount} error(s), ${result.warningCount} warning(s)`,
  );
  process.exit(1);
}
console.log(result.apiReportChanged ? 'report.api.md updated' : 'report.api.md is up to date');
