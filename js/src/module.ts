import { coreServices, createBackendModule, type LoggerService } from '@backstage/backend-plugin-api';
import { metricsServiceRef } from '@backstage/backend-plugin-api/alpha';
import * as catalogNode from '@backstage/plugin-catalog-node';
import { readOpenChoreoIncrementalConfig, toEngineOptions, type OpenChoreoIncrementalOptions } from './config';
import { redactUrls, resolveStateDatabase } from './database';
import { LegacyAdoption } from './adoption';
import { CatalogConsistency } from './consistency';
import { forwardEngineLogs } from './logging';
import { IngestionMetrics } from './metrics';
import { IngestionEngine, errorCode, errorMessage } from './native';
import { OpenChoreoIncrementalEntityProvider } from './provider';
import { openChoreoProcessors } from './processors';
import { createRouter, HEALTH_PATH } from './router';
import { CustomAnnotationProcessor } from './processors/customAnnotations';
import { openChoreoServicesRegistryRef } from './services/registry';
import { immediateCatalogServiceRef } from './services/immediateCatalog';
import {
  annotationStoreRef,
  applyAnnotationStoreMigrations,
  DatabaseAnnotationStore,
} from './services/annotationStore';
import { refuseForeignServices, refuseLegacyModule } from './services/legacyConflicts';
import { eventsServiceRef } from '@backstage/plugin-events-node';
import { eventsEnabled, eventsOptions, subscribeToOpenChoreoEvents } from './events';

// CommonJS interop: take the extension point from the namespace object.
const { catalogProcessingExtensionPoint, catalogServiceRef } = catalogNode;

/** How long start-up waits for the OpenChoreo API check before going on without it. */
const PROBE_WAIT_MS = 10_000;

/**
 * Refuses to start against a server that is not a current, cursor-paginated OpenChoreo
 * API (`INCOMPATIBLE_SERVER`). Anything else (down, slow, 401, ...) is only reported: the
 * engine retries and backs off on its own, and Backstage should still start.
 */
async function checkServer(engine: IngestionEngine, baseUrl: string, logger: LoggerService): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const outcome = await Promise.race([
    engine.probe().then(
      () => ({ ok: true as const }),
      (e: unknown) => ({ ok: false as const, e }),
    ),
    new Promise<{ ok: 'timeout' }>(resolve => {
      timer = setTimeout(() => resolve({ ok: 'timeout' }), PROBE_WAIT_MS);
    }),
  ]);
  clearTimeout(timer);
  if (outcome.ok === true) return;
  if (outcome.ok === 'timeout') {
    logger.warn(`OpenChoreo API at ${redactUrls(baseUrl)} did not answer within ${PROBE_WAIT_MS / 1000} s; starting anyway`);
    return;
  }
  const code = errorCode(outcome.e);
  const message = errorMessage(outcome.e);
  if (code === 'INCOMPATIBLE_SERVER') {
    await engine.close();
    const err = new Error(
      `Invalid config: openchoreo.baseUrl ${redactUrls(baseUrl)} is not a current (cursor-paginated) OpenChoreo API: ${message}`,
    );
    (err as Error & { code?: string }).code = code;
    throw err;
  }
  logger.warn(`OpenChoreo API check failed (${code ?? 'error'}): ${message}; the engine will retry`);
}

/**
 * Incremental ingestion of OpenChoreo resources into the catalog:
 * `backend.add(import('@openchoreo/plugin-catalog-backend-module-openchoreo-incremental'))`.
 *
 * @public
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
        urlReader: coreServices.urlReader,
        lifecycle: coreServices.lifecycle,
        database: coreServices.database,
        httpRouter: coreServices.httpRouter,
        httpAuth: coreServices.httpAuth,
        permissions: coreServices.permissions,
        auth: coreServices.auth,
        catalogService: catalogServiceRef,
        instanceMetadata: coreServices.rootInstanceMetadata,
        registry: openChoreoServicesRegistryRef,
        immediateCatalog: immediateCatalogServiceRef,
        annotationStore: annotationStoreRef,
        events: eventsServiceRef,
        metrics: metricsServiceRef,
        auditor: coreServices.auditor,
      },
      async init({
        catalog,
        config,
        logger,
        scheduler,
        urlReader,
        lifecycle,
        database,
        httpRouter,
        httpAuth,
        permissions,
        auth,
        catalogService,
        instanceMetadata,
        registry,
        immediateCatalog,
        annotationStore,
        events,
        metrics,
        auditor,
      }) {
        const options = readOpenChoreoIncrementalConfig(config, logger);
        await refuseLegacyModule(instanceMetadata, options.providerName);
        refuseForeignServices({ immediateCatalog, annotationStore });
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
        await checkServer(engine, options.baseUrl, logger);

        // User annotations live in the catalog's database, in the legacy module's table.
        let annotations: DatabaseAnnotationStore;
        try {
          const catalogDb = await database.getClient();
          await applyAnnotationStoreMigrations(catalogDb, logger);
          annotations = new DatabaseAnnotationStore(catalogDb);
        } catch (e) {
          await engine.close();
          throw new Error(`Cannot create the OpenChoreo annotation table in the catalog database: ${redactUrls(errorMessage(e))}`);
        }
        logger.info(`OpenChoreo incremental ingestion of provider ${options.providerName}`, {
          baseUrl: redactUrls(options.baseUrl),
          stateDatabase: stateDb.redacted,
          stateDatabaseSource: stateDb.source,
          burstLength: options.burstLength,
          burstInterval: options.burstInterval,
          restLength: options.restLength,
          chunkSize: options.chunkSize,
          leaseTtl: engine.leaseTimings.leaseTtlSeconds,
        });

        // The catalog's router answers only once the plugin has started; a scheduler may
        // run the first tick before that.
        let started!: () => void;
        const ready = new Promise<void>(resolve => {
          started = resolve;
        });
        lifecycle.addStartupHook(() => started());
        const adoption = new LegacyAdoption({ engine, catalog: catalogService, auth, logger, ready });

        const provider = new OpenChoreoIncrementalEntityProvider({
          engine,
          adoption,
          scheduler,
          logger,
          urlReader,
          burstLength: options.burstLength,
          burstInterval: options.burstInterval,
          metrics: new IngestionMetrics(metrics),
          consistency:
            options.consistencyCheckDelay === undefined
              ? undefined
              : new CatalogConsistency({ engine, catalog: catalogService, auth, logger, delaySeconds: options.consistencyCheckDelay }),
          events: eventsOptions(config),
        });
        if (eventsEnabled(config)) {
          await subscribeToOpenChoreoEvents({ events, engine, logger });
        }
        catalog.addEntityProvider(provider);
        registry.provider.provide(provider);
        // The catalog connects one provider per name and drops the others without a word:
        // by the catalog's start, ours is connected unless another one took its name.
        let connected = false;
        void provider.connected.then(() => {
          connected = true;
        });
        lifecycle.addStartupHook(() => {
          if (connected) return;
          logger.error(
            `The catalog did not connect entity provider ${provider.getProviderName()}: another entity provider ` +
              `of that name is installed, and the catalog keeps only one per name. Nothing is ingested by ` +
              `this module until the other one is removed (or openchoreo.incremental.providerName is changed).`,
          );
        });

        registry.annotationStore.provide(annotations);
        catalog.addProcessor(new CustomAnnotationProcessor(annotations));
        for (const processor of openChoreoProcessors()) catalog.addProcessor(processor);

        const providers = new Map<string, { provider: OpenChoreoIncrementalEntityProvider; options: OpenChoreoIncrementalOptions }>([
          [provider.getProviderName(), { provider, options }],
        ]);
        httpRouter.use(createRouter({ providers, httpAuth, permissions, auditor, logger }));
        httpRouter.addAuthPolicy({ path: HEALTH_PATH, allow: 'unauthenticated' });

        lifecycle.addShutdownHook(async () => {
          await provider.close();
        });
      },
    });
  },
});
