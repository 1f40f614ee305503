// Checks what the tests need before any backend starts: the release addon (built by
// `npm run build:addon`) and the mock OpenChoreo binary (built here).
const { existsSync, readdirSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const path = require('node:path');

module.exports = async () => {
  const root = path.resolve(__dirname, '..', '..');
  // Any platform's build (`openchoreo-incremental.<platform>.node`, e.g. linux-x64-gnu,
  // linux-x64-musl, darwin-arm64): index.js picks the one for this machine.
  const addon = readdirSync(root).find(f => /^openchoreo-incremental\..+\.node$/.test(f));
  if (!addon || !existsSync(path.join(root, 'index.js'))) {
    throw new Error(`The native addon is missing (no ${root}/openchoreo-incremental.<platform>.node): run \`npm run build:addon\` first.`);
  }
  // Always: a no-op when up to date, and never a stale stand-in.
  execFileSync('cargo', ['build', '--release', '-p', 'mock-openchoreo'], { cwd: root, stdio: 'inherit' });
};
