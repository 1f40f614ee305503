import type { Config } from '@backstage/config';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { EngineOptions } from '../index';

/** The OpenChoreo API's page size ceiling. */
export const MAX_CHUNK_SIZE = 100;
/** The legacy provider's name: the default ownership key, so a switch is clean. */
export const DEFAULT_PROVIDER_NAME = 'OpenChoreoEntityProvider';
/** The legacy provider's default owner group. */
export const DEFAULT_OWNER_GROUP = 'openchoreo-users';

/** Settings of the module, as read from `app-config.yaml` (`openchoreo.*`). */
export interface OpenChoreoIncrementalOptions {
  providerName: string;
  baseUrl: string;
  token?: string;
  /** Full owner entity ref, e.g. `group:default/openchoreo-users`. */
  defaultOwner: string;
  /** Seconds. */
  burstLength: number;
  /** Seconds. */
  burstInterval: number;
  /** Minutes. */
  restLength: number;
  chunkSize: number;
  /** Seconds. */
  backoff: number[];
  rejectRemovalsAbovePercentage?: number;
  rejectEmptySourceCollections: boolean;
  /** Domains take their namespace's `backstage.io/owner` (the legacy module never does). */
  domainOwnerFromAnnotation: boolean;
  /** Seconds. */
  requestTimeout?: number;
  /** Seconds a burst lease lives past its last renewal; the engine's default (10) when unset. */
  leaseTtl?: number;
  /** `openchoreo.incremental.database.url`, when set. */
  databaseUrl?: string;
}

export const DEFAULTS = {
  burstLength: 10,
  burstInterval: 30,
  restLength: 30,
  chunkSize: 50,
  backoff: [60, 300, 1800, 10800],
  rejectEmptySourceCollections: true,
  domainOwnerFromAnnotation: false,
} as const;

function invalid(key: string, value: unknown, allowed: string): Error {
  return new Error(
    `Invalid config: ${key} must be ${allowed}, got ${JSON.stringify(value)}`,
  );
}

function positiveNumber(config: Config, key: string, fallback: number, unit: string, allowZero = false): number {
  const value = config.getOptionalNumber(key);
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || (!allowZero && value === 0)) {
    throw invalid(key, value, `a ${allowZero ? 'non-negative' : 'positive'} number of ${unit}`);
  }
  return value;
}

/** `openchoreo-users` -> `group:default/openchoreo-users`; a full ref is kept as is. */
export function ownerRef(name: string): string {
  const trimmed = name.trim();
  if (trimmed.includes(':')) return trimmed;
  if (trimmed.includes('/')) return `group:${trimmed}`;
  return `group:default/${trimmed}`;
}

/**
 * Reads and checks `openchoreo.*`. Type errors come from Backstage's config reader (they
 * name the key); range errors are thrown here naming the key, the value and what is
 * allowed. The engine validates again when it opens (`INVALID_CONFIG`).
 */
export function readOpenChoreoIncrementalConfig(
  config: Config,
  logger?: Pick<LoggerService, 'warn'>,
): OpenChoreoIncrementalOptions {
  const baseUrl = config.getString('openchoreo.baseUrl');
  if (!/^https?:\/\//.test(baseUrl.trim())) {
    throw invalid('openchoreo.baseUrl', baseUrl.replace(/\/\/[^/@]*@/, '//***@'), 'an http:// or https:// URL');
  }
  const token = config.getOptionalString('openchoreo.token') || undefined;
  const defaultOwnerName = config.getOptionalString('openchoreo.defaultOwner') ?? DEFAULT_OWNER_GROUP;
  if (!defaultOwnerName.trim()) {
    throw invalid('openchoreo.defaultOwner', defaultOwnerName, 'a group name or an entity ref');
  }

  const p = 'openchoreo.incremental';
  const providerName = config.getOptionalString(`${p}.providerName`) ?? DEFAULT_PROVIDER_NAME;
  if (!providerName.trim()) {
    throw invalid(`${p}.providerName`, providerName, 'a non-empty string');
  }

  const burstLength = positiveNumber(config, `${p}.burstLength`, DEFAULTS.burstLength, 'seconds');
  const burstInterval = positiveNumber(config, `${p}.burstInterval`, DEFAULTS.burstInterval, 'seconds');
  const restLength = positiveNumber(config, `${p}.restLength`, DEFAULTS.restLength, 'minutes', true);
  const requestTimeout = config.has(`${p}.requestTimeout`)
    ? positiveNumber(config, `${p}.requestTimeout`, 30, 'seconds')
    : undefined;
  const leaseTtl = config.has(`${p}.leaseTtl`) ? positiveNumber(config, `${p}.leaseTtl`, 10, 'seconds') : undefined;

  let chunkSize = config.getOptionalNumber(`${p}.chunkSize`) ?? DEFAULTS.chunkSize;
  if (!Number.isInteger(chunkSize) || chunkSize < 1) {
    throw invalid(`${p}.chunkSize`, chunkSize, `a whole number from 1 to ${MAX_CHUNK_SIZE}`);
  }
  if (chunkSize > MAX_CHUNK_SIZE) {
    logger?.warn(
      `${p}.chunkSize ${chunkSize} is above the OpenChoreo API's maximum page size; using ${MAX_CHUNK_SIZE}`,
    );
    chunkSize = MAX_CHUNK_SIZE;
  }

  let backoff: number[] = [...DEFAULTS.backoff];
  if (config.has(`${p}.backoff`)) {
    const raw = config.get(`${p}.backoff`);
    if (!Array.isArray(raw) || raw.length === 0) {
      throw invalid(`${p}.backoff`, raw, 'a non-empty list of seconds, e.g. [60, 300, 1800, 10800]');
    }
    backoff = raw.map((v, i) => {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) {
        throw invalid(`${p}.backoff[${i}]`, v, 'a non-negative number of seconds');
      }
      return v;
    });
  }

  const rejectRemovalsAbovePercentage = config.getOptionalNumber(`${p}.rejectRemovalsAbovePercentage`);
  if (
    rejectRemovalsAbovePercentage !== undefined &&
    (!Number.isFinite(rejectRemovalsAbovePercentage) ||
      rejectRemovalsAbovePercentage < 0 ||
      rejectRemovalsAbovePercentage > 100)
  ) {
    throw invalid(`${p}.rejectRemovalsAbovePercentage`, rejectRemovalsAbovePercentage, 'a number from 0 to 100');
  }
  const rejectEmptySourceCollections =
    config.getOptionalBoolean(`${p}.rejectEmptySourceCollections`) ?? DEFAULTS.rejectEmptySourceCollections;
  const domainOwnerFromAnnotation =
    config.getOptionalBoolean(`${p}.domainOwnerFromAnnotation`) ?? DEFAULTS.domainOwnerFromAnnotation;

  const databaseUrl = config.getOptionalString(`${p}.database.url`) || undefined;

  return {
    providerName: providerName.trim(),
    baseUrl: baseUrl.trim(),
    token,
    defaultOwner: ownerRef(defaultOwnerName),
    burstLength,
    burstInterval,
    restLength,
    chunkSize,
    backoff,
    rejectRemovalsAbovePercentage,
    rejectEmptySourceCollections,
    domainOwnerFromAnnotation,
    requestTimeout,
    leaseTtl,
    databaseUrl,
  };
}

/** The module's options as the engine takes them. */
export function toEngineOptions(options: OpenChoreoIncrementalOptions, databaseUrl: string): EngineOptions {
  return {
    providerName: options.providerName,
    baseUrl: options.baseUrl,
    token: options.token,
    defaultOwner: options.defaultOwner,
    databaseUrl,
    chunkSize: options.chunkSize,
    burstLengthSeconds: options.burstLength,
    burstIntervalSeconds: options.burstInterval,
    restLengthMinutes: options.restLength,
    backoffSeconds: options.backoff,
    rejectRemovalsAbovePercentage: options.rejectRemovalsAbovePercentage,
    rejectEmptySourceCollections: options.rejectEmptySourceCollections,
    domainOwnerFromAnnotation: options.domainOwnerFromAnnotation,
    requestTimeoutSeconds: options.requestTimeout,
    leaseTtlSeconds: options.leaseTtl,
  };
}
