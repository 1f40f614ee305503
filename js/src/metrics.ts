import type { MetricAttributes, MetricsService } from '@backstage/backend-plugin-api/alpha';
import type { ProviderStatus, TickReport } from './native';

/** Bucket bounds (seconds) of the burst-duration histogram: bursts last `burstLength` (10 s by default). */
export const BURST_DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 15, 30, 60, 120, 300];
/** Bucket bounds (seconds) of the per-page histograms: one API request, or one catalog write. */
export const PAGE_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** Tick outcomes in which a burst ran (the others only looked at the state). */
const BURST_ACTIONS = new Set(['burst', 'failed', 'canceled']);

/**
 * The module's instruments, made by Backstage's metrics service (`metricsServiceRef`,
 * the catalog plugin's meter; Backstage's own incremental module uses it too). Names:
 * `catalog_openchoreo_incremental.*`, every one with a `provider` attribute.
 */
export class IngestionMetrics {
  private readonly ticks;
  private readonly entities;
  private readonly removed;
  private readonly cycles;
  private readonly burstDuration;
  private readonly pageFetchDuration;
  private readonly pageApplyDuration;
  private readonly statuses = new Map<string, ProviderStatus>();

  constructor(meter: MetricsService) {
    this.ticks = meter.createCounter('catalog_openchoreo_incremental.ticks', {
      description: 'Scheduler ticks, by what the engine did (burst, waiting, locked, failed)',
    });
    this.entities = meter.createCounter('catalog_openchoreo_incremental.entities', {
      description: 'Entities handed to the catalog',
    });
    this.removed = meter.createCounter('catalog_openchoreo_incremental.removed', {
      description: 'Entity refs removed from the catalog at the end of cycles',
    });
    this.cycles = meter.createCounter('catalog_openchoreo_incremental.cycles.completed', {
      description: 'Completed ingestion cycles',
    });
    this.burstDuration = meter.createHistogram('catalog_openchoreo_incremental.burst.duration', {
      description: 'How long each burst took, by outcome (`action`: burst, failed, canceled)',
      unit: 's',
      advice: { explicitBucketBoundaries: BURST_DURATION_BUCKETS },
    });
    this.pageFetchDuration = meter.createHistogram('catalog_openchoreo_incremental.page.fetch.duration', {
      description: 'How long reading one page from the OpenChoreo API took, retries included',
      unit: 's',
      advice: { explicitBucketBoundaries: PAGE_DURATION_BUCKETS },
    });
    this.pageApplyDuration = meter.createHistogram('catalog_openchoreo_incremental.page.apply.duration', {
      description: "How long the catalog took to accept one of a burst's mutations (a page, or a chunk of removals)",
      unit: 's',
      advice: { explicitBucketBoundaries: PAGE_DURATION_BUCKETS },
    });

    const gauge = (name: string, description: string, unit: string | undefined, pick: (s: ProviderStatus) => number | undefined) =>
      meter.createObservableGauge(name, { description, unit }).addCallback(result => {
        for (const [provider, status] of this.statuses) {
          const v = pick(status);
          if (v !== undefined) result.observe(v, { provider });
        }
      });
    gauge('catalog_openchoreo_incremental.owned_entities', 'Entities the provider owns in the catalog', undefined, s => s.ownedEntities);
    gauge('catalog_openchoreo_incremental.attempts', 'Consecutive failed bursts', undefined, s => s.attempts);
    gauge('catalog_openchoreo_incremental.cycle', 'Current cycle number', undefined, s => s.cycle);
    gauge('catalog_openchoreo_incremental.item_errors', 'Items of the current cycle that could not become entities', undefined, s => s.itemErrorCount);
    gauge('catalog_openchoreo_incremental.last_cycle_started', 'Start of the last completed cycle (Unix seconds)', 's', s =>
      s.lastCompletedCycle ? s.lastCompletedCycle.startedAt / 1000 : undefined,
    );
    gauge('catalog_openchoreo_incremental.last_cycle_completed', 'End of the last completed cycle (Unix seconds)', 's', s =>
      s.lastCompletedCycle ? s.lastCompletedCycle.finishedAt / 1000 : undefined,
    );
    gauge(
      'catalog_openchoreo_incremental.catalog_unlisted',
      "Owned entities missing from the catalog's listing at the last consistency check",
      undefined,
      s => s.consistency?.unlisted,
    );
    gauge('catalog_openchoreo_incremental.heal_pending', 'Entities waiting to be handed over again to repair the catalog', undefined, s => s.healPending);
    gauge('catalog_openchoreo_incremental.next_action_at', 'When the next action is due (Unix seconds)', 's', s => s.nextActionAt / 1000);
  }

  /** One tick's report; `elapsedMs` is the tick's wall time (a burst's duration when it burst). */
  recordTick(provider: string, report: TickReport, elapsedMs: number): void {
    const attrs: MetricAttributes = { provider, action: report.action };
    this.ticks.add(1, attrs);
    if (report.entities > 0) this.entities.add(report.entities, { provider });
    if (report.removed > 0) this.removed.add(report.removed, { provider });
    if (report.cycleCompleted) this.cycles.add(1, { provider });
    if (BURST_ACTIONS.has(report.action)) this.burstDuration.record(elapsedMs / 1000, attrs);
    for (const ms of report.pageFetchMillis) this.pageFetchDuration.record(ms / 1000, { provider });
  }

  /** The catalog's `applyMutation` of one page (or event), in milliseconds. */
  recordApply(provider: string, elapsedMs: number): void {
    this.pageApplyDuration.record(elapsedMs / 1000, { provider });
  }

  recordFailure(provider: string, code: string | undefined): void {
    this.ticks.add(1, { provider, action: 'error', code: code ?? 'UNKNOWN' });
  }

  recordStatus(status: ProviderStatus): void {
    this.statuses.set(status.provider, status);
  }
}
