// A minimal Backstage backend for the demo: the real catalog plugin plus this module.
import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('../dist/index.js'));
await backend.start();
