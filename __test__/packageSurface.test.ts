// The package's public surface: what `exports` lets users import, and the API report
// that records it (Backstage's packages keep a `report.api.md`).
import { spawnSync } from 'node:child_process';
import { ROOT } from './support/mock';

const NAME = '@openchoreo/plugin-catalog-backend-module-openchoreo-incremental';

function node(code: string) {
  // A package may import itself by name: that goes through its `exports`, as a user's does.
  return spawnSync(process.execPath, ['-e', code], { cwd: ROOT, encoding: 'utf8' });
}

describe('the public surface', () => {
  it('exports only the entry point and package.json', () => {
    const entry = node(`console.log(require.resolve(${JSON.stringify(NAME)}))`);
    expect(entry.status).toBe(0);
    expect(entry.stdout.trim()).toBe(`${ROOT}/dist/index.js`);
    const manifest = node(`console.log(require(${JSON.stringify(`${NAME}/package.json`)}).name)`);
    expect(manifest.stdout.trim()).toBe(NAME);
    const internal = node(`require(${JSON.stringify(`${NAME}/dist/router.js`)})`);
    expect(internal.status).not.toBe(0);
    expect(internal.stderr).toContain('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });

  it('matches report.api.md (after changing the exports, run `npm run api-report`)', () => {
    const r = spawnSync(process.execPath, ['scripts/api-report.mjs', '--check'], { cwd: ROOT, encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toContain('report.api.md is up to date');
    expect(r.status).toBe(0);
  }, 180_000);
});
