// Checks what the tests need before any backend starts: the release addon (built by
// `npm run build:addon`) and the mock OpenChoreo binary (built here when missing).
const { existsSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  const root = path.resolve(__dirname, '..', '..');
  const addon = path.join(root, 'openchoreo-incremental.linux-x64-gnu.node');
  if (!existsSync(addon) || !existsSync(path.join(root, 'index.js'))) {
    throw new Error(`The native addon is missing (${addon}): run \`npm run build:addon\` first.`);
  }
  const mock = path.join(root, 'target', 'release', 'mock-openchoreo');
  if (!existsSync(mock)) {
    execFileSync('cargo', ['build', '--release', '-p', 'mock-openchoreo'], { cwd: root, stdio: 'inherit' });
  }
};
