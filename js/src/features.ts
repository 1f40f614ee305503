// What `backend.add(import('@openchoreo/plugin-catalog-backend-module-openchoreo-incremental'))`
// brings: the catalog module and the two services OpenChoreo's other plugins use (the
// scaffolder module and the OpenChoreo backend plugin), which the legacy module's package
// provided as separate factories.
import { createBackendFeatureLoader } from '@backstage/backend-plugin-api';
import { catalogModuleOpenChoreoIncremental } from './module';
import { immediateCatalogServiceFactory } from './services/immediateCatalog';
import { annotationStoreFactory } from './services/annotationStore';

/**
 * The service factories of this package, replacing the legacy module's.
 *
 * @public
 */
export const openChoreoIncrementalServiceFactories = [immediateCatalogServiceFactory, annotationStoreFactory];

/**
 * The module and its service factories, as one feature (the package's default export).
 *
 * @public
 */
export const openChoreoIncrementalFeatures = createBackendFeatureLoader({
  *loader() {
    yield catalogModuleOpenChoreoIncremental;
    yield* openChoreoIncrementalServiceFactories;
  },
});
