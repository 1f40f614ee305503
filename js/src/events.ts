import type { Config } from '@backstage/config';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { EventParams, EventsService } from '@backstage/plugin-events-node';
import { invalid } from './config';
import type { EventsOptions, IngestionEngine } from './native';

/** The topic the OpenChoreo portal publishes change events on (its HTTP ingress topic). */
export const OPENCHOREO_TOPIC = 'openchoreo';

/**
 * The kinds the legacy module's event router republishes as `openchoreo.<kind>`: a
 * backend that still runs that router delivers events there too (the engine coalesces
 * the duplicate when both topics carry the same event).
 */
export const OPENCHOREO_EVENT_KINDS = [
  'namespace', 'project', 'component', 'workload', 'environment', 'observabilityalertsnotificationchannel',
  'dataplane', 'workflowplane', 'observabilityplane', 'deploymentpipeline', 'componenttype', 'resourcetype',
  'projecttype', 'resource', 'trait', 'workflow', 'clustercomponenttype', 'clusterresourcetype',
  'clusterprojecttype', 'clustertrait', 'clusterworkflow', 'clusterdataplane', 'clusterobservabilityplane',
  'clusterworkflowplane',
] as const;

export const OPENCHOREO_TOPICS = [OPENCHOREO_TOPIC, ...OPENCHOREO_EVENT_KINDS.map(k => `${OPENCHOREO_TOPIC}.${k}`)];

/** `openchoreo.events.enabled` (default true, as in the legacy module). */
export function eventsEnabled(config: Config): boolean {
  return config.getOptionalBoolean('openchoreo.events.enabled') ?? true;
}

/**
 * How the engine works change events, from `openchoreo.events` (undefined: turned off).
 * `workers`: resources fetched at once (the engine's default is 16).
 */
export function eventsOptions(config: Config): EventsOptions | undefined {
  if (!eventsEnabled(config)) return undefined;
  const key = 'openchoreo.events.workers';
  const workers = config.getOptionalNumber(key);
  if (workers === undefined) return {};
  if (!Number.isInteger(workers) || workers < 1 || workers > 64) throw invalid(key, workers, 'an integer from 1 to 64');
  return { workers };
}

/**
 * Subscribes the engine to OpenChoreo change events (`{kind, name, namespace?, action}`).
 * Each event is handed to the engine's bounded queue at once; the engine fetches and
 * applies it once the provider is connected (see `startEvents`). Never throws from the
 * handler: a payload the engine cannot use is logged and counted.
 */
export async function subscribeToOpenChoreoEvents(options: {
  events: EventsService;
  engine: IngestionEngine;
  logger: LoggerService;
  subscriberId?: string;
}): Promise<void> {
  const { events, engine, logger } = options;
  await events.subscribe({
    id: options.subscriberId ?? 'OpenChoreoIncrementalEntityProvider',
    topics: OPENCHOREO_TOPICS,
    onEvent: async (params: EventParams) => {
      let outcome: string;
      try {
        const payload = typeof params.eventPayload === 'string' ? params.eventPayload : JSON.stringify(params.eventPayload ?? null);
        outcome = engine.pushEvent(payload);
      } catch (e) {
        logger.warn(`OpenChoreo change event on ${params.topic} not taken: ${(e as Error)?.message ?? e}`);
        return;
      }
      if (outcome.startsWith('ignored')) {
        logger.warn(`OpenChoreo change event on ${params.topic} ${outcome}`);
      } else if (outcome === 'overflowed') {
        logger.warn('OpenChoreo change events: the queue is full; the next cycle was made due now instead');
      }
    },
  });
}
