// Start-up checks against a half-done switch from the legacy OpenChoreo catalog module.
// Both modules register an entity provider named OpenChoreoEntityProvider, and the
// catalog keeps one provider per name without a word (lodash uniqBy in CatalogBuilder):
// the other one's entities are never updated or removed. And a backend that still
// provides the legacy service factories explicitly gets those instead of this package's
// (Backstage lets an explicitly added factory win over a feature loader's), so the
// scaffolder's inserts go to a provider nobody connected.
import type { RootInstanceMetadataService } from '@backstage/backend-plugin-api';
import { PACKAGE_NAME } from './registry';
import { ImmediateCatalog, type ImmediateCatalogService } from './immediateCatalog';
import { SharedAnnotationStore, type AnnotationStore } from './annotationStore';

/** The legacy module's package, and its module id under the catalog plugin. */
export const LEGACY_PACKAGE = '@openchoreo/backstage-plugin-catalog-backend-module';
export const LEGACY_MODULE_ID = 'openchoreo';

function startupError(message: string): Error {
  const err = new Error(message);
  (err as Error & { code?: string }).code = 'LEGACY_MODULE_INSTALLED';
  return err;
}

/** Refuses to start when the legacy catalog module is installed in the same backend. */
export async function refuseLegacyModule(
  instanceMetadata: Pick<RootInstanceMetadataService, 'getInstalledPlugins'>,
  providerName: string,
): Promise<void> {
  const plugins = await instanceMetadata.getInstalledPlugins();
  const catalog = plugins.find(p => p.pluginId === 'catalog');
  if (!catalog?.modules.some(m => m.moduleId === LEGACY_MODULE_ID)) return;
  throw startupError(
    `The legacy OpenChoreo catalog module (${LEGACY_PACKAGE}, catalog module '${LEGACY_MODULE_ID}') is installed ` +
      `together with ${PACKAGE_NAME}: both register the entity provider '${providerName}', and the catalog would ` +
      `silently keep only one of them. Remove the line that adds the legacy module: ` +
      `\`() => import('${LEGACY_PACKAGE}')\` in the portal's feature list (portalFeatureLoaders, ` +
      `packages/portal-backend/src/features.ts), or \`backend.add(import('${LEGACY_PACKAGE}'))\` in ` +
      `packages/backend/src/index.ts. See the README, "Migrating from the legacy module".`,
  );
}

/**
 * Refuses to start when `openchoreo.immediate-catalog` or `openchoreo.annotation-store`
 * comes from another factory than this package's (the legacy
 * `immediateCatalogServiceFactory` / `annotationStoreFactory`, added explicitly).
 */
export function refuseForeignServices(services: {
  immediateCatalog: ImmediateCatalogService;
  annotationStore: AnnotationStore;
}): void {
  const foreign = [
    services.immediateCatalog instanceof ImmediateCatalog ? undefined : 'openchoreo.immediate-catalog (immediateCatalogServiceFactory)',
    services.annotationStore instanceof SharedAnnotationStore ? undefined : 'openchoreo.annotation-store (annotationStoreFactory)',
  ].filter((s): s is string => !!s);
  if (foreign.length === 0) return;
  throw startupError(
    `${foreign.join(' and ')} ${foreign.length > 1 ? 'are' : 'is'} provided by another service factory than ` +
      `${PACKAGE_NAME}'s, most likely the legacy module's, added to the backend explicitly (an explicitly added ` +
      `factory wins over the one this package's feature loader brings). Remove the lines that add ` +
      `immediateCatalogServiceFactory and annotationStoreFactory from ${LEGACY_PACKAGE} (portalServiceFactories ` +
      `in packages/portal-backend/src/features.ts, or backend.add(...) in packages/backend/src/index.ts): ` +
      `backend.add(import('${PACKAGE_NAME}')) provides both.`,
  );
}
