import { coreServices, createBackendModule } from '@backstage/backend-plugin-api';
import * as catalogNode from '@backstage/plugin-catalog-node';
import { readOpenChoreoIncrementalConfig, toEngineOptions, type OpenChoreoIncrementalOptions } from './config';
import { resolveStateDatabase } from './database';
import { forwardEngineLogs } from './logging';
import { IngestionMetrics } from './metrics';
import { IngestionEngine, errorCode, errorMessage } from './native';
import { OpenChoreoIncrementalEntityProvider } from './provider';
import { createRouter, HEALTH_PATH } from './router';

// CommonJS interop: take the extension point from the namespace object.
const { catalogProcessingExtensionPoint } = catalogNode;

/**
 * Incremental ingestion of OpenChoreo resources into the catalog:
 * `backend.add(import('@openchoreo/plugin-catalog-backend-module-openchoreo-incremental'))`.
 */
export const catalogModuleOpenChoreoIncremental = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'openchoreo-incremental',
  register(env) {
    env.registerInit({
      deps: {
        catalog: catalogProcessingExtensionPoint,
        config: coreServices.rootConfig,
        logger: coreServices.logger,
        scheduler: coreServices.scheduler,
        lifecycle: coreServices.lifecycle,
        database: coreServices.database,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        permissions: coreServices.permissions,
      },
      async init({ catalog, config, logger, scheduler, lifecycle, database, httpRouter, httpAuth, permissions }) {
        const options = readOpenChoreoIncrementalConfig(config, logger);
        const stateDb = await resolveStateDatabase(config, database, options.databaseUrl);

        forwardEngineLogs(logger);

        let engine: IngestionEngine;
        try {
          engine = await IngestionEngine.open(toEngineOptions(options, stateDb.url));
        } catch (e) {
          const code = errorCode(e);
          const prefix = code === 'INVALID_CONFIG' ? 'Invalid config' : `Cannot open the OpenChoreo ingestion engine (${code ?? 'error'})`;
          const err = new Error(`${prefix}: ${errorMessage(e)} [state database: ${stateDb.redacted}]`);
          (err as Error & { code?: string }).code = code;
          throw err;
        }
        logger.info(`OpenChoreo incremental ingestion of provider ${options.providerName}`, {
          baseUrl: options.baseUrl,
          stateDatabase: stateDb.redacted,
          stateDatabaseSource: stateDb.source,
          burstLength: options.burstLength,
          burstInterval: options.burstInterval,
          restLength: options.restLength,
          chunkSize: options.chunkSize,
        });

        const provider = new OpenChoreoIncrementalEntityProvider({
          engine,
          scheduler,
          logger,
          burstLength: options.burstLength,
          burstInterval: options.burstInterval,
          metrics: new IngestionMetrics(),
        });
        catalog.addEntityProvider(provider);

        const providers = new Map<string, { provider: OpenChoreoIncrementalEntityProvider; options: OpenChoreoIncrementalOptions }>([
          [provider.getProviderName(), { provider, options }],
        ]);
        httpRouter.use(createRouter({ providers, httpAuth, permissions, logger }));
        httpRouter.addAuthPolicy({ path: HEALTH_PATH, allow: 'unauthenticated' });

        lifecycle.addShutdownHook(async () => {
          await provider.close();
        });
      },
    });
  },
});
