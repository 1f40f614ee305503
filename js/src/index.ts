/**
 * Incremental ingestion of OpenChoreo resources into the Backstage catalog: a Rust engine
 * (napi-rs addon) behind a catalog backend module.
 *
 * @packageDocumentation
 */
import { catalogModuleOpenChoreoIncremental } from './module';
import { openChoreoIncrementalFeatures } from './features';

/** The catalog module with the `openchoreo.immediate-catalog` and `openchoreo.annotation-store` services. */
export default openChoreoIncrementalFeatures;
export { catalogModuleOpenChoreoIncremental, openChoreoIncrementalFeatures };
export { openChoreoIncrementalServiceFactories } from './features';
export {
  immediateCatalogServiceRef,
  immediateCatalogServiceFactory,
  ImmediateCatalog,
  type ImmediateCatalogService,
} from './services/immediateCatalog';
export {
  annotationStoreRef,
  annotationStoreFactory,
  applyAnnotationStoreMigrations,
  DatabaseAnnotationStore,
  ANNOTATIONS_TABLE,
  type AnnotationStore,
} from './services/annotationStore';
export { CustomAnnotationProcessor } from './processors/customAnnotations';
export { LEGACY_PACKAGE, LEGACY_MODULE_ID } from './services/legacyConflicts';
export {
  OpenChoreoIncrementalEntityProvider,
  type OpenChoreoIncrementalEntityProviderOptions,
  type RefreshResult,
} from './provider';
export {
  readOpenChoreoIncrementalConfig,
  toEngineOptions,
  ownerRef,
  DEFAULTS,
  DEFAULT_PROVIDER_NAME,
  MAX_CHUNK_SIZE,
  type OpenChoreoIncrementalOptions,
} from './config';
export { resolveStateDatabase, redactUrls, SQLITE_FILENAME, type StateDatabase } from './database';
export { createRouter, type RouterOptions } from './router';
export { forwardEngineLogs } from './logging';
export {
  IngestionEngine,
  type EngineOptions,
  type TickReport,
  type ProviderStatus,
  type CycleProgress,
  type ItemError,
  type RejectedRemoval,
  type CompletedCycle,
  type EngineErrorCode,
} from './native';
