// `openchoreo.immediate-catalog`: OpenChoreo's scaffolder actions insert the entity of a
// resource they have just created (and may remove one) without waiting for a cycle.
// Wire-compatible with the legacy module (catalog-backend-module-openchoreo
// src/service/ImmediateCatalogService.ts): same service id and methods. Unlike the
// legacy module, which applied them through a second provider whose entities no full
// run ever removed, the entity goes through this module's own provider connection and
// its ref is recorded in the engine's state, so the sweep and the next cycle treat it
// like any entity the provider ingested.
import {
  coreServices,
  createServiceFactory,
  createServiceRef,
  type LoggerService,
} from '@backstage/backend-plugin-api';
import { parseEntityRef, stringifyEntityRef, type Entity } from '@backstage/catalog-model';
import type { OpenChoreoIncrementalEntityProvider } from '../provider';
import { MANAGED_BY_LOCATION } from '../catalogListing';
import { openChoreoServicesRegistryRef, type OpenChoreoServicesRegistry } from './registry';

const MANAGED_BY_ORIGIN_LOCATION = 'backstage.io/managed-by-origin-location';

/** How long a call waits for the catalog to connect the provider after start-up. */
export const CONNECT_WAIT_MS = 30_000;

/**
 * The legacy module's `ImmediateCatalogService` interface, unchanged.
 *
 * @public
 */
export interface ImmediateCatalogService {
  /** Inserts an entity into the catalog now. */
  insertEntity(entity: Entity): Promise<void>;
  /** Removes an entity (`kind:namespace/name`) from the catalog now. */
  removeEntity(entityRef: string): Promise<void>;
}

/**
 * The legacy module's service ref: the same id, so consumers of the legacy ref get ours.
 *
 * @public
 */
export const immediateCatalogServiceRef = createServiceRef<ImmediateCatalogService>({
  id: 'openchoreo.immediate-catalog',
  scope: 'plugin',
});

const SERVICE = 'openchoreo.immediate-catalog';

/** The service, writing through the catalog module's provider. */
export class ImmediateCatalog implements ImmediateCatalogService {
  constructor(
    private readonly registry: OpenChoreoServicesRegistry,
    private readonly logger: LoggerService,
    private readonly connectWaitMs = CONNECT_WAIT_MS,
  ) {}

  /** The provider and its catalog connection (waits for start-up, bounded). */
  private async target(): Promise<{ provider: OpenChoreoIncrementalEntityProvider; locationKey: string; connection: Awaited<OpenChoreoIncrementalEntityProvider['connected']> }> {
    let provider: OpenChoreoIncrementalEntityProvider;
    try {
      provider = await this.registry.provider.promise;
    } catch (e) {
      throw new Error(`${SERVICE} is not available: ${(e as Error).message}`);
    }
    let timer: NodeJS.Timeout | undefined;
    const connection = await Promise.race([
      provider.connected,
      new Promise<undefined>(resolve => {
        timer = setTimeout(() => resolve(undefined), this.connectWaitMs);
      }),
    ]);
    clearTimeout(timer);
    const name = provider.getProviderName();
    if (!connection) {
      throw new Error(
        `${SERVICE}: the catalog has not connected provider ${name} after ${this.connectWaitMs / 1000} s ` +
          `(is another entity provider named ${name} installed, such as the legacy OpenChoreo catalog module?)`,
      );
    }
    return { provider, connection, locationKey: `provider:${name}` };
  }

  async insertEntity(entity: Entity): Promise<void> {
    if (typeof entity?.kind !== 'string' || !entity.kind || typeof entity.metadata?.name !== 'string' || !entity.metadata.name) {
      throw new Error(`${SERVICE}: insertEntity needs an entity with a kind and a metadata.name`);
    }
    const ref = stringifyEntityRef(entity);
    const { provider, connection, locationKey } = await this.target();
    // First the engine's state, then the catalog: a ref owned but not (yet) in the
    // catalog is harmless (removing it is a no-op); an entity in the catalog that the
    // engine does not own would never be removed.
    const recorded = await provider.engine.recordInserted(ref);
    if (recorded === null) {
      throw new Error(
        `${SERVICE}: ${ref} is not an entity provider ${provider.getProviderName()} ingests ` +
          `(its kind is none of the OpenChoreo kinds), so its next cycle would remove it again; not inserted`,
      );
    }
    // Owned by this provider like the entities its cycles emit.
    const owned: Entity = {
      ...entity,
      metadata: {
        ...entity.metadata,
        annotations: {
          ...entity.metadata.annotations,
          [MANAGED_BY_LOCATION]: locationKey,
          [MANAGED_BY_ORIGIN_LOCATION]: locationKey,
        },
      },
    };
    await connection.applyMutation({ type: 'delta', added: [{ entity: owned, locationKey }], removed: [] });
    this.logger.info(`Inserted ${ref} into the catalog at once (provider ${provider.getProviderName()})`);
  }

  async removeEntity(entityRef: string): Promise<void> {
    let ref: string;
    try {
      ref = stringifyEntityRef(parseEntityRef(entityRef));
    } catch (e) {
      throw new Error(`${SERVICE}: removeEntity needs an entity ref (kind:namespace/name), got '${entityRef}': ${(e as Error).message}`);
    }
    const { provider, connection, locationKey } = await this.target();
    // First the catalog, then the engine's state, as the sweep does: a failure in
    // between leaves the ref owned, and the next sweep removes it again.
    await connection.applyMutation({ type: 'delta', added: [], removed: [{ entityRef: ref, locationKey }] });
    await provider.engine.forgetRemoved(ref);
    this.logger.info(`Removed ${ref} from the catalog at once (provider ${provider.getProviderName()})`);
  }
}

/**
 * Provides `openchoreo.immediate-catalog` (replaces the legacy `immediateCatalogServiceFactory`).
 *
 * @public
 */
export const immediateCatalogServiceFactory = createServiceFactory({
  service: immediateCatalogServiceRef,
  deps: { registry: openChoreoServicesRegistryRef, logger: coreServices.logger },
  factory({ registry, logger }): ImmediateCatalogService {
    return new ImmediateCatalog(registry, logger);
  },
});
