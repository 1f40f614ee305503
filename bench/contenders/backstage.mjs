// Backstage's own engine (@backstage/plugin-catalog-backend-module-incremental-ingestion)
// running the OpenChoreo provider of backstage-provider.mjs, registered through its
// extension point, in a backend started with startTestBackend. The `catalog` plugin is a
// tiny fake that provides `catalogProcessingExtensionPoint` and connects every entity
// provider to the counting connection. The engine's tables live in the catalog plugin's
// database as Backstage configures it from `backend.database` (SQLite file / PostgreSQL).
//
// Scheduling: the mock scheduler of backend-test-utils, with its run-on-startup off; the
// benchmark triggers the provider's task itself, back to back (no pause between bursts;
// the real scheduler would enforce at least 5 s). burstLength is large, so one trigger is
// one burst that walks the whole cycle.
import backendPluginApi from '@backstage/backend-plugin-api';
import testUtils from '@backstage/backend-test-utils';
import incremental from '@backstage/plugin-catalog-backend-module-incremental-ingestion';
import { OpenChoreoIncrementalProvider } from './backstage-provider.mjs';
import { fakeCatalogPlugin } from '../lib/fake-catalog.mjs';
import { PROVIDER_NAME } from '../lib/openchoreo.mjs';

const { createBackendModule } = backendPluginApi;
const { startTestBackend, mockServices } = testUtils;
const { incrementalIngestionProvidersExtensionPoint } = incremental;
const incrementalModule = incremental.default;


export async function setup(options, connection) {
  let done = false;
  const provider = new OpenChoreoIncrementalProvider({
    baseUrl: options.baseUrl,
    chunkSize: options.chunkSize,
    onDone: () => {
      done = true;
    },
  });
  const providerModule = createBackendModule({
    pluginId: 'catalog',
    moduleId: 'openchoreo-bench-provider',
    register(env) {
      env.registerInit({
        deps: { extension: incrementalIngestionProvidersExtensionPoint },
        async init({ extension }) {
          extension.addProvider({
            provider,
            options: {
              burstInterval: { seconds: 0 },
              burstLength: { hours: 1 },
              restLength: { hours: 10 },
              backoff: [{ seconds: 1 }],
              rejectEmptySourceCollections: true,
            },
          });
        },
      });
    },
  });
  const scheduler = mockServices.scheduler();
  const backend = await startTestBackend({
    features: [
      mockServices.rootConfig.factory({ data: { backend: { database: options.backendDatabase } } }),
      scheduler.factory({ skipTaskRunOnStartup: true }),
      fakeCatalogPlugin(connection),
      incrementalModule,
      providerModule,
    ],
  });
  return {
    async cycle() {
      let triggers = 0;
      while (!done) {
        await scheduler.triggerTask(PROVIDER_NAME);
        triggers += 1;
        if (triggers > 1000) throw new Error('the cycle did not complete in 1000 triggers');
      }
      return { triggers };
    },
    async teardown() {
      await backend.stop();
    },
  };
}
