import type { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { providerRefPages } from './catalogListing';
import type { ConsistencyReport, IngestionEngine } from './native';

/**
 * Added to an entity the check found missing from the catalog's listing, whenever it is
 * handed over, until a later check finds it listed: the content change makes the catalog
 * process and stitch it in full (an unchanged entity is skipped before stitching). Then
 * it is handed without it again, another change the catalog processes normally.
 */
export const HEAL_ANNOTATION = 'openchoreo.io/catalog-heal';

/** Catalog entities per listing page (three fields each). */
export const CHECK_PAGE_SIZE = 1000;
/** Refs healed per burst, at most (the rest in later bursts). */
const MAX_HEALS_PER_TICK = 10_000;

type Engine = Pick<IngestionEngine, 'providerName' | 'beginConsistencyCheck' | 'consistencyListed' | 'finishConsistencyCheck' | 'healRefs'>;

export interface CatalogConsistencyOptions {
  engine: Engine;
  catalog: Pick<CatalogService, 'queryEntities'>;
  auth: Pick<AuthService, 'getOwnServiceCredentials'>;
  logger: LoggerService;
  /** Seconds after a completed cycle before the check runs (the catalog processes meanwhile); undefined: never on its own. */
  delaySeconds?: number;
  pageSize?: number;
}

interface Mutation {
  type: string;
  added?: { entity: { kind?: string; metadata?: { name?: string; namespace?: string; annotations?: Record<string, string> } } }[];
}

/**
 * The catalog consistency check and its repair (see `src/engine/consistency.rs`): the
 * catalog's filtered listing of the provider against the refs the engine owns, after
 * each completed cycle (once the catalog had `delaySeconds` to process it) and on demand.
 * Owned refs the listing lacks are handed over with {@link HEAL_ANNOTATION} from the next
 * burst on. Nothing is read or written in the catalog's tables: only its API.
 */
export class CatalogConsistency {
  private readonly options: CatalogConsistencyOptions;
  private dueAt?: number;
  private running?: Promise<ConsistencyReport>;

  constructor(options: CatalogConsistencyOptions) {
    this.options = options;
  }

  /** A cycle completed: check once the catalog had time to process it. */
  cycleCompleted(now = Date.now()): void {
    if (this.options.delaySeconds !== undefined) this.dueAt = now + this.options.delaySeconds * 1000;
  }

  /** Runs the check when one is due (called on every tick); never rejects. */
  async checkIfDue(now = Date.now()): Promise<ConsistencyReport | undefined> {
    if (this.dueAt === undefined || now < this.dueAt) return undefined;
    this.dueAt = undefined;
    try {
      return await this.check(true);
    } catch (e) {
      this.options.logger.warn(`OpenChoreo catalog consistency check of ${this.options.engine.providerName} failed: ${e}`);
      return undefined;
    }
  }

  /** Checks now (one check at a time; a second call joins the running one). */
  check(heal: boolean): Promise<ConsistencyReport> {
    this.running ??= this.run(heal).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async run(heal: boolean): Promise<ConsistencyReport> {
    const { engine, catalog, auth, logger } = this.options;
    const started = Date.now();
    const check = await engine.beginConsistencyCheck();
    let listed = 0;
    let listedOwned = 0;
    const pages = providerRefPages({ catalog, auth, providerName: engine.providerName, pageSize: this.options.pageSize ?? CHECK_PAGE_SIZE });
    for await (const refs of pages) {
      listed += refs.length;
      if (refs.length > 0) listedOwned += await engine.consistencyListed(check, refs);
    }
    const report = await engine.finishConsistencyCheck(check, listed, listedOwned, heal);
    const summary = { ...report, millis: Date.now() - started };
    if (report.unlisted > 0) {
      logger.warn(
        `OpenChoreo catalog consistency check of ${engine.providerName}: ${report.unlisted} owned entities are missing ` +
          `from the catalog's listing (e.g. ${report.unlistedSample.slice(0, 5).join(', ')}); ` +
          (heal ? `${report.healMarked} are handed over with a change from the next cycle on` : 'not repaired (heal=false)'),
        summary,
      );
    } else {
      logger.info(`OpenChoreo catalog consistency check of ${engine.providerName}: the catalog lists every owned entity`, summary);
    }
    return report;
  }

  /**
   * The refs to annotate in this tick's mutations (none is the common case). A failure
   * only postpones the heals: the burst itself reports what is wrong with the database.
   */
  async pendingHeals(): Promise<Map<string, number>> {
    try {
      const refs = await this.options.engine.healRefs(MAX_HEALS_PER_TICK);
      return new Map(refs.map(r => [r.entityRef, r.check]));
    } catch {
      return new Map();
    }
  }

  /** Adds {@link HEAL_ANNOTATION} to the entities of `mutation` that wait for a heal. */
  annotate(mutation: Mutation, heals: Map<string, number>): void {
    if (heals.size === 0 || mutation.type !== 'delta') return;
    for (const { entity } of mutation.added ?? []) {
      const meta = entity.metadata;
      if (!entity.kind || !meta?.name) continue;
      const check = heals.get(`${entity.kind}:${meta.namespace ?? 'default'}/${meta.name}`.toLowerCase());
      // The check's time: the same content at every handover until the heal ends.
      if (check !== undefined) meta.annotations = { ...meta.annotations, [HEAL_ANNOTATION]: new Date(check).toISOString() };
    }
  }
}
