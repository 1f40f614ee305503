// A minimal Backstage backend for the demo: the real catalog plugin, Backstage's scaffolder
// entity model (so the catalog accepts kind Template), the events plugin (whose HTTP
// ingress, POST /api/events/http/openchoreo, receives the stand-in's change events),
// plus this module.
import { createBackend } from '@backstage/backend-defaults';

const backend = createBackend();
backend.add(import('@backstage/plugin-catalog-backend'));
backend.add(import('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'));
backend.add(import('@backstage/plugin-events-backend'));
backend.add(import('../dist/index.js'));
await backend.start();
