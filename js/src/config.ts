import type { Config } from '@backstage/config';
import type { LoggerService } from '@backstage/backend-plugin-api';
import type { EngineOptions } from '../index';

/** The OpenChoreo API's page size ceiling. */
export const MAX_CHUNK_SIZE = 100;
/** The legacy provider's name: the default ownership key, so a switch is clean. */
export const DEFAULT_PROVIDER_NAME = 'OpenChoreoEntityProvider';
/** The legacy provider's default owner group. */
export const DEFAULT_OWNER_GROUP = 'openchoreo-users';

/** `openchoreo.auth.*`: OAuth2 client credentials, as the legacy module reads them. */
export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  tokenUrl: string;
  /** Space-separated scopes. */
  scope?: string;
}

/** Settings of the module, as read from `app-config.yaml` (`openchoreo.*`). */
export interface OpenChoreoIncrementalOptions {
  providerName: string;
  baseUrl: string;
  token?: string;
  /** Set only while `openchoreo.features.auth.enabled` is not false; exclusive with `token`. */
  clientCredentials?: ClientCredentials;
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
  /** Seconds after a completed cycle before the catalog consistency check; undefined: off. */
  consistencyCheckDelay?: number;
}

export const DEFAULTS = {
  burstLength: 10,
  burstInterval: 30,
  restLength: 30,
  chunkSize: 50,
  backoff: [60, 300, 1800, 10800],
  rejectEmptySourceCollections: true,
  domainOwnerFromAnnotation: false,
  consistencyCheck: true,
  consistencyCheckDelay: 300,
} as const;

export function invalid(key: string, value: unknown, allowed: string): Error {
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

const redactUrl = (url: string) => url.replace(/\/\/[^/@]*@/, '//***@');

/**
 * `openchoreo.auth.{clientId, clientSecret, tokenUrl, scope}`, switched by
 * `openchoreo.features.auth.enabled` (default true), with the legacy module's meaning:
 * a form-encoded client-credentials grant, `scope` space-separated, no token while auth
 * is disabled. Unlike the legacy module, which then silently sends no token, a partial
 * set or one alongside `openchoreo.token` refuses to start, naming the keys.
 */
function readClientCredentials(
  config: Config,
  token: string | undefined,
  logger?: Pick<LoggerService, 'warn'>,
): ClientCredentials | undefined {
  const read = (key: string) => config.getOptionalString(`openchoreo.auth.${key}`) || undefined;
  const clientId = read('clientId');
  const clientSecret = read('clientSecret');
  const tokenUrl = read('tokenUrl')?.trim() || undefined;
  const scope = read('scope');
  const written = { clientId, clientSecret, tokenUrl };
  const given = Object.entries(written).filter(([, v]) => v !== undefined).map(([k]) => `openchoreo.auth.${k}`);
  const enabled = config.getOptionalBoolean('openchoreo.features.auth.enabled') ?? true;
  if (given.length === 0) {
    if (scope && enabled) logger?.warn('openchoreo.auth.scope is set without client credentials; it is not used');
    return undefined;
  }
  if (!enabled) {
    logger?.warn(
      `openchoreo.features.auth.enabled is false: ${given.join(', ')} not used; requests to OpenChoreo carry ${
        token ? 'openchoreo.token' : 'no credentials'
      }`,
    );
    return undefined;
  }
  const missing = Object.entries(written).filter(([, v]) => v === undefined).map(([k]) => `openchoreo.auth.${k}`);
  if (missing.length > 0) {
    throw new Error(
      `Invalid config: client credentials need openchoreo.auth.clientId, clientSecret and tokenUrl together; ${missing.join(
        ', ',
      )} ${missing.length === 1 ? 'is' : 'are'} missing (or set openchoreo.features.auth.enabled to false)`,
    );
  }
  if (!/^https?:\/\//.test(tokenUrl!)) {
    throw invalid('openchoreo.auth.tokenUrl', redactUrl(tokenUrl!), 'an http:// or https:// URL');
  }
  if (token) {
    throw new Error(
      'Invalid config: openchoreo.token and openchoreo.auth (client credentials) are both set; use one of them ' +
        '(remove openchoreo.token, or set openchoreo.features.auth.enabled to false to use the static token)',
    );
  }
  return { clientId: clientId!, clientSecret: clientSecret!, tokenUrl: tokenUrl!, ...(scope ? { scope } : {}) };
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
    throw invalid('openchoreo.baseUrl', redactUrl(baseUrl), 'an http:// or https:// URL');
  }
  const token = config.getOptionalString('openchoreo.token') || undefined;
  const clientCredentials = readClientCredentials(config, token, logger);
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
  const consistencyCheck = config.getOptionalBoolean(`${p}.consistencyCheck`) ?? DEFAULTS.consistencyCheck;
  const consistencyCheckDelay = positiveNumber(
    config,
    `${p}.consistencyCheckDelay`,
    DEFAULTS.consistencyCheckDelay,
    'seconds',
    true,
  );

  return {
    providerName: providerName.trim(),
    baseUrl: baseUrl.trim(),
    token,
    clientCredentials,
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
    consistencyCheckDelay: consistencyCheck ? consistencyCheckDelay : undefined,
  };
}

/** The module's options as the engine takes them. */
export function toEngineOptions(options: OpenChoreoIncrementalOptions, databaseUrl: string): EngineOptions {
  return {
    providerName: options.providerName,
    baseUrl: options.baseUrl,
    token: options.token,
    clientCredentials: options.clientCredentials,
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
