// Checks what the tests need before any backend starts: the release addon (built by
// `npm run build:addon`) and the mock OpenChoreo binary (built here).
const { existsSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  const root = path.resolve(__dirname, '..', '..');
  const addon = path.join(root, 'openchoreo-incremental.linux-x64-gnu.node');
  if (!existsSync(addon) || !existsSync(path.join(root, 'index.js'))) {
    throw new Error(`The native addon is missing (${addon}): run \`npm run build:addon\` first.`);
  }
  // Always: a no-op when up to date, and never a stale stand-in.
  execFileSync('cargo', ['build', '--release', '-p', 'mock-openchoreo'], { cwd: root, stdio: 'inherit' });
};
