// `openchoreo.annotation-store`: annotations users set on OpenChoreo entities (through the
// OpenChoreo backend plugin's annotation editor, or the scaffolder's CI annotation), kept
// in the catalog database and merged over the provider's by `CustomAnnotationProcessor`.
// Wire-compatible with the legacy module (catalog-backend-module-openchoreo
// src/service/AnnotationStore.ts): same service id, same methods, same table and columns,
// so the rows written before the switch keep working.
import {
  createServiceFactory,
  createServiceRef,
  type DatabaseService,
  type LoggerService,
} from '@backstage/backend-plugin-api';
import { openChoreoServicesRegistryRef, type OpenChoreoServicesRegistry } from './registry';

/** The catalog database's knex client. */
type Knex = Awaited<ReturnType<DatabaseService['getClient']>>;

/** The legacy module's table: `(entity_ref, annotation_key)` primary key. */
export const ANNOTATIONS_TABLE = 'entity_custom_annotations';
const REF_INDEX = 'idx_entity_custom_annotations_ref';

/**
 * The legacy module's `AnnotationStore` interface, unchanged.
 *
 * @public
 */
export interface AnnotationStore {
  /** The custom annotations of an entity (`component:default/my-component`). */
  getAnnotations(entityRef: string): Promise<Record<string, string>>;
  /** Upserts the given annotations; a `null` value deletes that key. */
  setAnnotations(entityRef: string, annotations: Record<string, string | null>): Promise<void>;
  /** Deletes every custom annotation of an entity. */
  deleteAllAnnotations(entityRef: string): Promise<void>;
}

/**
 * The legacy module's service ref: the same id, so consumers of the legacy ref get ours.
 *
 * @public
 */
export const annotationStoreRef = createServiceRef<AnnotationStore>({
  id: 'openchoreo.annotation-store',
  scope: 'plugin',
});

/** "Already exists" from SQLite, PostgreSQL or MySQL: another replica created it first. */
function isAlreadyExists(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  const message = String(error).toLowerCase();
  return (
    message.includes('already exists') ||
    message.includes('duplicate') ||
    code === '42P07' ||
    code === '42710' ||
    code === 'ER_TABLE_EXISTS_ERROR' ||
    code === 'ER_DUP_KEYNAME'
  );
}

/**
 * Creates the table and its index as the legacy module does, when missing. Replicas
 * starting together may race: "already exists" is not an error.
 */
export async function applyAnnotationStoreMigrations(knex: Knex, logger: LoggerService): Promise<void> {
  if (!(await knex.schema.hasTable(ANNOTATIONS_TABLE))) {
    try {
      await knex.schema.createTable(ANNOTATIONS_TABLE, table => {
        table.string('entity_ref', 255).notNullable();
        table.string('annotation_key', 255).notNullable();
        table.text('annotation_value').notNullable();
        table.timestamp('updated_at').defaultTo(knex.fn.now());
        table.primary(['entity_ref', 'annotation_key']);
      });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      logger.debug(`Table ${ANNOTATIONS_TABLE} was created meanwhile (another replica)`);
    }
  }
  try {
    await knex.schema.alterTable(ANNOTATIONS_TABLE, table => {
      table.index(['entity_ref'], REF_INDEX);
    });
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}

/** The store on the catalog database. */
export class DatabaseAnnotationStore implements AnnotationStore {
  constructor(private readonly knex: Knex) {}

  async getAnnotations(entityRef: string): Promise<Record<string, string>> {
    const rows: Array<{ annotation_key: string; annotation_value: string }> = await this.knex(ANNOTATIONS_TABLE)
      .where('entity_ref', entityRef)
      .select('annotation_key', 'annotation_value');
    return Object.fromEntries(rows.map(r => [r.annotation_key, r.annotation_value]));
  }

  async setAnnotations(entityRef: string, annotations: Record<string, string | null>): Promise<void> {
    await this.knex.transaction(async tx => {
      for (const [key, value] of Object.entries(annotations)) {
        if (value === null) {
          await tx(ANNOTATIONS_TABLE).where({ entity_ref: entityRef, annotation_key: key }).delete();
        } else {
          // One upsert (SQLite, PostgreSQL and MySQL alike): no read-then-write race.
          await tx(ANNOTATIONS_TABLE)
            .insert({ entity_ref: entityRef, annotation_key: key, annotation_value: value, updated_at: tx.fn.now() })
            .onConflict(['entity_ref', 'annotation_key'])
            .merge(['annotation_value', 'updated_at']);
        }
      }
    });
  }

  async deleteAllAnnotations(entityRef: string): Promise<void> {
    await this.knex(ANNOTATIONS_TABLE).where('entity_ref', entityRef).delete();
  }
}

/**
 * What each plugin gets: the catalog module's store, awaited per call. Plugins start in
 * parallel, so the factory cannot wait for the catalog module; a call made before it has
 * started waits, and fails with the reason when the backend started without it.
 */
export class SharedAnnotationStore implements AnnotationStore {
  constructor(private readonly registry: OpenChoreoServicesRegistry) {}

  private async store(): Promise<DatabaseAnnotationStore> {
    try {
      return await this.registry.annotationStore.promise;
    } catch (e) {
      throw new Error(`openchoreo.annotation-store is not available: ${(e as Error).message}`);
    }
  }

  async getAnnotations(entityRef: string): Promise<Record<string, string>> {
    return (await this.store()).getAnnotations(entityRef);
  }

  async setAnnotations(entityRef: string, annotations: Record<string, string | null>): Promise<void> {
    return (await this.store()).setAnnotations(entityRef, annotations);
  }

  async deleteAllAnnotations(entityRef: string): Promise<void> {
    return (await this.store()).deleteAllAnnotations(entityRef);
  }
}

/**
 * Provides `openchoreo.annotation-store` (replaces the legacy `annotationStoreFactory`).
 *
 * @public
 */
export const annotationStoreFactory = createServiceFactory({
  service: annotationStoreRef,
  deps: { registry: openChoreoServicesRegistryRef },
  factory({ registry }): AnnotationStore {
    return new SharedAnnotationStore(registry);
  },
});
