import type { LoggerService, SchedulerService, UrlReaderService } from '@backstage/backend-plugin-api';
import type { EntityProvider, EntityProviderConnection } from '@backstage/plugin-catalog-node';
import { IngestionEngine, errorCode, errorMessage, type EventsOptions, type ProviderStatus, type TickReport } from './native';
import { IngestionMetrics } from './metrics';
import type { LegacyAdoption } from './adoption';
import { completeCustomTemplates } from './customTemplates';
import type { CatalogConsistency } from './consistency';

export interface OpenChoreoIncrementalEntityProviderOptions {
  engine: IngestionEngine;
  scheduler: SchedulerService;
  logger: LoggerService;
  /** Seconds a burst lasts. */
  burstLength: number;
  /** Seconds between scheduler runs (the task frequency). */
  burstInterval: number;
  metrics?: IngestionMetrics;
  /**
   * Adoption of the legacy provider's entities, run before the first tick that bursts
   * (see `LegacyAdoption`); none when omitted.
   */
  adoption?: LegacyAdoption;
  /**
   * Reads the custom scaffolder templates that component types name by URL (with the
   * app's integrations and credentials); without one they are left out, as the legacy
   * module leaves them out.
   */
  urlReader?: UrlReaderService;
  /** The catalog consistency check, run after completed cycles, and its repair. */
  consistency?: CatalogConsistency;
  /**
   * Apply OpenChoreo change events (pushed with `engine.pushEvent`, see `./events`) once
   * connected; off when omitted.
   */
  events?: EventsOptions;
}

/** The outcome of a manual refresh. */
export interface RefreshResult {
  /** false when the task was already running: the running burst continues the cycle. */
  triggered: boolean;
}

/**
 * The catalog entity provider: a Backstage scheduler task per provider calls the engine's
 * `tick`, which bursts when the persisted state says one is due and hands each page to
 * the catalog as a `delta` mutation.
 *
 * The task is local (every replica ticks every `burstInterval`); the engine's burst lease
 * in the state database keeps one replica bursting at a time. A global task would add
 * Backstage's own lock, which a process killed mid-run holds until the task's timeout
 * and the scheduler's janitor (once a minute) clear it, logging "Task timed out and was
 * lost": minutes without a burst. The lease is renewed by a heartbeat and expires
 * `leaseTtl` after its holder stops, so another replica, or the restarted process, goes
 * on within `burstInterval + leaseTtl`.
 */
export class OpenChoreoIncrementalEntityProvider implements EntityProvider {
  readonly engine: IngestionEngine;
  private readonly scheduler: SchedulerService;
  private readonly logger: LoggerService;
  private readonly burstLength: number;
  private readonly burstInterval: number;
  private readonly metrics?: IngestionMetrics;
  private readonly adoption?: LegacyAdoption;
  private readonly urlReader?: UrlReaderService;
  readonly consistency?: CatalogConsistency;
  private readonly events?: EventsOptions;
  private connection?: EntityProviderConnection;
  private onConnected!: (connection: EntityProviderConnection) => void;
  /** The catalog's connection, once `connect` ran (the immediate-catalog service writes through it). */
  readonly connected = new Promise<EntityProviderConnection>(resolve => {
    this.onConnected = resolve;
  });
  private inFlight?: Promise<unknown>;
  private stopping = false;
  private closed = false;

  constructor(options: OpenChoreoIncrementalEntityProviderOptions) {
    this.engine = options.engine;
    this.scheduler = options.scheduler;
    this.logger = options.logger;
    this.burstLength = options.burstLength;
    this.burstInterval = options.burstInterval;
    this.metrics = options.metrics;
    this.adoption = options.adoption;
    this.urlReader = options.urlReader;
    this.consistency = options.consistency;
    this.events = options.events;
  }

  getProviderName(): string {
    return this.engine.providerName;
  }

  /** The scheduler task's timeout: the engine's lease hold limit plus the lease's life. */
  get taskTimeoutSeconds(): number {
    const { holdLimitSeconds, leaseTtlSeconds } = this.engine.leaseTimings;
    return Math.ceil(holdLimitSeconds + leaseTtlSeconds);
  }

  /** The Backstage scheduler task of this provider. */
  get taskId(): string {
    return `openchoreo-incremental:${this.getProviderName()}`;
  }

  async connect(connection: EntityProviderConnection): Promise<void> {
    this.connection = connection;
    this.onConnected(connection);
    if (this.events) {
      // Each event's mutation goes through the same connection as the bursts' pages.
      await this.engine.startEvents(async json => {
        await connection.applyMutation(await completeCustomTemplates(JSON.parse(json), this.urlReader, this.logger));
      }, this.events);
    }
    await this.scheduler.scheduleTask({
      id: this.taskId,
      frequency: { seconds: this.burstInterval },
      // When the engine's heartbeat stops renewing a burst's lease (burstLength + 60 s),
      // plus the lease's life: by then a burst still running holds the provider only by
      // its own page commits. (A local task's timeout only aborts its signal; the tick
      // itself stops at page boundaries.)
      timeout: { seconds: this.taskTimeoutSeconds },
      scope: 'local',
      fn: async (signal?: AbortSignal) => {
        await this.tick(signal);
      },
    });
  }

  /**
   * One scheduler run: a burst when one is due. Failures are logged (the engine backs off
   * by itself) and do not reject.
   *
   * `signal` is the scheduler's: it aborts when the task times out or someone cancels it
   * (`POST /api/catalog/.backstage/scheduler/v1/tasks/:id/cancel`); that cancels the
   * engine's cycle, as the cancel route does. On shutdown it aborts too, but only after
   * `close` began (plugins stop before the root's scheduler), which already stops the
   * burst after its page and keeps the cycle: then it is ignored.
   */
  async tick(signal?: AbortSignal): Promise<TickReport | undefined> {
    const connection = this.connection;
    if (!connection || this.stopping || signal?.aborted) return undefined;
    const name = this.getProviderName();
    if (this.adoption && !this.adoption.done) {
      // No burst before the legacy provider's entities are adopted (or adoption gave
      // up): adoption belongs before the first cycle.
      const adopting = this.adoption.beforeTick();
      this.inFlight = adopting;
      const proceed = await adopting.finally(() => {
        this.inFlight = undefined;
      });
      if (!proceed || this.stopping) return undefined;
    }
    const consistency = this.consistency;
    const heals = consistency ? await consistency.pendingHeals() : new Map<string, number>();
    const started = performance.now();
    const run = this.engine.tick(async json => {
      const mutation = await completeCustomTemplates(JSON.parse(json), this.urlReader, this.logger);
      consistency?.annotate(mutation, heals);
      const applying = performance.now();
      await connection.applyMutation(mutation);
      this.metrics?.recordApply(name, performance.now() - applying);
    });
    this.inFlight = run.catch(() => undefined);
    const onAbort = () => this.cancelOnAbort(name);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const report = await run;
      this.metrics?.recordTick(name, report, performance.now() - started);
      if (report.action === 'failed') {
        this.logger.warn(`OpenChoreo ingestion burst of ${name} failed: ${report.error ?? 'unknown error'}`, {
          nextActionAt: new Date(report.nextActionAt).toISOString(),
        });
      } else if (report.action === 'burst') {
        const message = report.cycleCompleted
          ? `OpenChoreo ingestion cycle of ${name} completed`
          : `OpenChoreo ingestion burst of ${name}`;
        this.logger.info(message, {
          pages: report.pages,
          entities: report.entities,
          removed: report.removed,
          nextActionAt: new Date(report.nextActionAt).toISOString(),
        });
      }
      if (report.cycleCompleted) consistency?.cycleCompleted();
      // Off the scheduler task: a check of a large catalog may outlast the task's timeout.
      void consistency?.checkIfDue();
      await this.refreshStatusMetrics();
      return report;
    } catch (e) {
      const code = errorCode(e);
      this.metrics?.recordFailure(name, code);
      if (code !== 'CLOSED') {
        this.logger.error(`OpenChoreo ingestion tick of ${name} failed: ${errorMessage(e)}`, { code });
      }
      return undefined;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      this.inFlight = undefined;
    }
  }

  /** The scheduler aborted a running tick (see `tick`). */
  private cancelOnAbort(name: string): void {
    if (this.stopping) return;
    this.logger.warn(`The scheduler aborted the ingestion task of ${name} (timed out or canceled); canceling the cycle`);
    this.engine.cancel().catch(e => {
      if (errorCode(e) !== 'CLOSED') this.logger.error(`Canceling the cycle of ${name} failed: ${errorMessage(e)}`, { code: errorCode(e) });
    });
  }

  private async refreshStatusMetrics(): Promise<void> {
    if (!this.metrics) return;
    try {
      this.metrics.recordStatus(await this.engine.status());
    } catch {
      // Metrics are best effort.
    }
  }

  status(): Promise<ProviderStatus> {
    return this.engine.status();
  }

  reset(): Promise<void> {
    return this.engine.reset();
  }

  cancel(): Promise<void> {
    return this.engine.cancel();
  }

  /** Makes the next action due now and runs the scheduler task at once. */
  async refresh(): Promise<RefreshResult> {
    await this.engine.refresh();
    try {
      await this.scheduler.triggerTask(this.taskId);
      return { triggered: true };
    } catch (e) {
      if ((e as { name?: string })?.name === 'ConflictError') {
        return { triggered: false };
      }
      throw e;
    }
  }

  /** Stops ticking, lets a running burst finish its page (bounded), closes the engine. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopping = true;
    const running = this.inFlight;
    if (running) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        running,
        new Promise(resolve => {
          timer = setTimeout(resolve, (this.burstLength + 5) * 1000);
        }),
      ]);
      if (timer) clearTimeout(timer);
    }
    await this.engine.close();
  }
}
