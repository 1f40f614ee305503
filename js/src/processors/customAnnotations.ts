// User annotations (the `openchoreo.annotation-store` table) merged over the provider's
// on every processing of an OpenChoreo entity, so a cycle that emits the entity again
// without them does not drop them. The legacy module's CustomAnnotationProcessor
// (catalog-backend-module-openchoreo src/processors/CustomAnnotationProcessor.ts),
// same name, same rule.
import type { CatalogProcessor } from '@backstage/plugin-catalog-node';
import type { LocationSpec } from '@backstage/plugin-catalog-common';
import { stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import type { AnnotationStore } from '../services/annotationStore';

/** The label every entity of the OpenChoreo provider carries. */
export const MANAGED_LABEL = 'openchoreo.io/managed';

export class CustomAnnotationProcessor implements CatalogProcessor {
  constructor(private readonly store: Pick<AnnotationStore, 'getAnnotations'>) {}

  getProcessorName(): string {
    return 'CustomAnnotationProcessor';
  }

  async preProcessEntity(entity: Entity, _location: LocationSpec): Promise<Entity> {
    if (entity.metadata.labels?.[MANAGED_LABEL] !== 'true') return entity;
    const custom = await this.store.getAnnotations(stringifyEntityRef(entity));
    if (Object.keys(custom).length === 0) return entity;
    // The user's value wins over the provider's for the same key.
    return {
      ...entity,
      metadata: { ...entity.metadata, annotations: { ...entity.metadata.annotations, ...custom } },
    };
  }
}
