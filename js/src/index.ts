/**
 * Incremental ingestion of OpenChoreo resources into the Backstage catalog: a Rust engine
 * (napi-rs addon) behind a catalog backend module.
 *
 * The public surface is what a Backstage backend imports: the feature (default export),
 * its parts, and the two services OpenChoreo's other plugins use. Everything else is
 * internal; `report.api.md` records this surface (`npm run api-report`).
 *
 * @packageDocumentation
 */
import { openChoreoIncrementalFeatures } from './features';

export default openChoreoIncrementalFeatures;
export { openChoreoIncrementalFeatures, openChoreoIncrementalServiceFactories } from './features';
export { catalogModuleOpenChoreoIncremental } from './module';
export {
  immediateCatalogServiceRef,
  immediateCatalogServiceFactory,
  type ImmediateCatalogService,
} from './services/immediateCatalog';
export { annotationStoreRef, annotationStoreFactory, type AnnotationStore } from './services/annotationStore';
