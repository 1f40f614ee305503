import { metrics, type Attributes } from '@opentelemetry/api';
import type { ProviderStatus, TickReport } from './native';

/**
 * OpenTelemetry instruments (Backstage exports them with its OpenTelemetry setup).
 * Names follow Backstage's own incremental module: `catalog_openchoreo_incremental.*`.
 */
export class IngestionMetrics {
  private readonly meter = metrics.getMeter('@openchoreo/plugin-catalog-backend-module-openchoreo-incremental');
  private readonly ticks = this.meter.createCounter('catalog_openchoreo_incremental.ticks', {
    description: 'Scheduler ticks, by what the engine did (burst, waiting, locked, failed)',
  });
  private readonly entities = this.meter.createCounter('catalog_openchoreo_incremental.entities', {
    description: 'Entities handed to the catalog',
  });
  private readonly removed = this.meter.createCounter('catalog_openchoreo_incremental.removed', {
    description: 'Entity refs removed from the catalog at the end of cycles',
  });
  private readonly cycles = this.meter.createCounter('catalog_openchoreo_incremental.cycles.completed', {
    description: 'Completed ingestion cycles',
  });
  private readonly statuses = new Map<string, ProviderStatus>();

  constructor() {
    const gauge = (name: string, description: string, unit: string | undefined, pick: (s: ProviderStatus) => number | undefined) =>
      this.meter.createObservableGauge(name, { description, unit }).addCallback(result => {
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

  recordTick(provider: string, report: TickReport): void {
    const attrs: Attributes = { provider, action: report.action };
    this.ticks.add(1, attrs);
    if (report.entities > 0) this.entities.add(report.entities, { provider });
    if (report.removed > 0) this.removed.add(report.removed, { provider });
    if (report.cycleCompleted) this.cycles.add(1, { provider });
  }

  recordFailure(provider: string, code: string | undefined): void {
    this.ticks.add(1, { provider, action: 'error', code: code ?? 'UNKNOWN' });
  }

  recordStatus(status: ProviderStatus): void {
    this.statuses.set(status.provider, status);
  }
}
