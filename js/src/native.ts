// The Rust addon (napi-rs). `../index` is the package's generated loader, both from
// js/src (through js/index.js) and from dist/.
export { IngestionEngine, setLogger, droppedLogEvents } from '../index';
export type {
  EngineOptions,
  TickReport,
  ProviderStatus,
  CycleProgress,
  ItemError,
  RejectedRemoval,
  CompletedCycle,
  ConsistencyReport,
  EventsOptions,
  EventStats,
} from '../index';

/** A rejection of the addon: a JS `Error` (possibly from another realm) with a `code`. */
export interface EngineError {
  code?: string;
  message: string;
}

/** Error codes of the engine (`ErrorCode::as_str()` in the Rust core). */
export type EngineErrorCode =
  | 'INVALID_CONFIG'
  | 'AUTH'
  | 'NOT_FOUND'
  | 'RATE_LIMITED'
  | 'TRANSIENT'
  | 'CURSOR_EXPIRED'
  | 'INCOMPATIBLE_SERVER'
  | 'INVALID_RESPONSE'
  | 'DATABASE'
  | 'SINK'
  | 'LOCKED'
  | 'CLOSED';

export function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export function errorMessage(e: unknown): string {
  const message = (e as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(e);
}
