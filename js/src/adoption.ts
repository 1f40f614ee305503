import type { AuthService, LoggerService } from '@backstage/backend-plugin-api';
import type { CatalogService } from '@backstage/plugin-catalog-node';
import { errorCode, errorMessage, type IngestionEngine } from './native';
import { providerRefPages } from './catalogListing';

/** Catalog entities fetched per page while adopting. */
export const ADOPTION_PAGE_SIZE = 500;

/** Failed adoption attempts (one per tick) before ingestion goes on without it. */
export const ADOPTION_MAX_ATTEMPTS = 3;

export interface LegacyAdoptionOptions {
  engine: Pick<IngestionEngine, 'providerName' | 'status' | 'adopt'>;
  catalog: Pick<CatalogService, 'queryEntities'>;
  auth: Pick<AuthService, 'getOwnServiceCredentials'>;
  logger: LoggerService;
  /**
   * Resolves once the catalog serves requests (the plugin's startup): the catalog's
   * router answers 503 until then, and a scheduler may run the first tick earlier.
   */
  ready?: Promise<void>;
  pageSize?: number;
  maxAttempts?: number;
}

/** What one adoption did. */
export interface AdoptionResult {
  /** Catalog entities found under the provider's location key. */
  found: number;
  /** Refs the engine did not own yet (of the kinds it produces). */
  adopted: number;
  pages: number;
}

/**
 * Adoption of the legacy provider's entities. The legacy OpenChoreo provider emitted the
 * same entities under the same provider name and location key, but the engine's table of
 * owned refs starts empty on a switch: an entity the legacy provider emitted that is
 * already gone from OpenChoreo would never be removed. So, before the first cycle, the
 * catalog's entities under `provider:<providerName>` are handed to `engine.adopt` page by
 * page; the first completed cycle then removes those it does not see (under the usual
 * guards). The engine takes only the kinds it produces; the rest is left alone.
 */
export class LegacyAdoption {
  private readonly engine: LegacyAdoptionOptions['engine'];
  private readonly catalog: LegacyAdoptionOptions['catalog'];
  private readonly auth: LegacyAdoptionOptions['auth'];
  private readonly logger: LoggerService;
  private readonly ready: Promise<void>;
  private readonly pageSize: number;
  private readonly maxAttempts: number;
  private settled = false;
  private failures = 0;
  private running?: Promise<boolean>;

  constructor(options: LegacyAdoptionOptions) {
    this.engine = options.engine;
    this.catalog = options.catalog;
    this.auth = options.auth;
    this.logger = options.logger;
    this.ready = options.ready ?? Promise.resolve();
    this.pageSize = options.pageSize ?? ADOPTION_PAGE_SIZE;
    this.maxAttempts = options.maxAttempts ?? ADOPTION_MAX_ATTEMPTS;
  }

  /** Whether adoption is over: done, not needed, or given up. */
  get done(): boolean {
    return this.settled;
  }

  /**
   * Called before each tick. Resolves `true` when ingestion may go on (adoption done,
   * not needed, or given up after `maxAttempts` failures), `false` when this attempt
   * failed and the tick should be skipped (the next tick tries again). Never rejects.
   */
  beforeTick(): Promise<boolean> {
    if (this.settled) return Promise.resolve(true);
    if (!this.running) {
      this.running = this.attempt().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private async attempt(): Promise<boolean> {
    const name = this.engine.providerName;
    await this.ready;
    try {
      const status = await this.engine.status();
      // The first burst starts cycle 1 before it commits anything, so at cycle 0 the
      // engine owns nothing but refs of an earlier, interrupted adoption: repeating it
      // is harmless (adopt is idempotent) and completes it.
      if (status.cycle !== 0) {
        this.settled = true;
        return true;
      }
      const result = await this.adoptAll();
      this.settled = true;
      this.logger.info(
        `OpenChoreo ingestion of ${name} adopted ${result.adopted} entities of the legacy provider ` +
          `(${result.found} found under provider:${name}; only the kinds this module emits are adopted); ` +
          'the first completed cycle removes those no longer in OpenChoreo',
        { ...result },
      );
      return true;
    } catch (e) {
      const code = errorCode(e);
      if (code === 'CLOSED') return false;
      this.failures += 1;
      const message = errorMessage(e);
      if (this.failures >= this.maxAttempts) {
        this.settled = true;
        this.logger.warn(
          `OpenChoreo ingestion of ${name}: adopting the legacy provider's entities failed ${this.failures} times; ` +
            `going on without it: entities the legacy provider emitted that are already gone from OpenChoreo ` +
            `stay in the catalog until removed by hand. Last error: ${message}`,
          { code },
        );
        return true;
      }
      this.logger.warn(
        `OpenChoreo ingestion of ${name}: adopting the legacy provider's entities failed ` +
          `(attempt ${this.failures} of ${this.maxAttempts}; retried on the next tick, ingestion waits for it): ${message}`,
        { code },
      );
      return false;
    }
  }

  /** Pages through the catalog's entities under the location key, adopting each page. */
  async adoptAll(): Promise<AdoptionResult> {
    const result: AdoptionResult = { found: 0, adopted: 0, pages: 0 };
    const pages = providerRefPages({
      catalog: this.catalog,
      auth: this.auth,
      providerName: this.engine.providerName,
      pageSize: this.pageSize,
    });
    for await (const refs of pages) {
      result.pages += 1;
      result.found += refs.length;
      if (refs.length > 0) result.adopted += await this.engine.adopt(refs);
    }
    return result;
  }
}
