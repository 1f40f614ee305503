// Preloaded by scripts/with-node.mjs (NODE_OPTIONS=--import) under another Node major:
// `require('better-sqlite3')` and the like resolve to the copies compiled for this Node
// (OC_NATIVE_MODULES, `name=path,...`) instead of node_modules' build for Node 20. Jest
// resolves modules itself and maps them in jest.config.js.
import { registerHooks } from 'node:module';

const overlay = Object.fromEntries((process.env.OC_NATIVE_MODULES ?? '').split(',').filter(Boolean).map(e => e.split('=')));
registerHooks({
  resolve(specifier, context, next) {
    return next(overlay[specifier] ?? specifier, context);
  },
});
