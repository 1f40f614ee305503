import type { LoggerService } from '@backstage/backend-plugin-api';
import { setLogger } from './native';

type Level = 'error' | 'warn' | 'info' | 'debug' | 'trace';
const LEVELS: readonly Level[] = ['error', 'warn', 'info', 'debug', 'trace'];

/** Backstage's root logger reads `LOG_LEVEL` (default `info`); the engine follows it. */
export function engineLogLevel(env: NodeJS.ProcessEnv = process.env): Level {
  const wanted = (env.LOG_LEVEL ?? 'info').toLowerCase();
  return (LEVELS as readonly string[]).includes(wanted) ? (wanted as Level) : 'info';
}

/**
 * Routes the engine's `tracing` events to a Backstage logger, with their structured
 * fields as log metadata. Process-wide: the latest call wins (one backend per process).
 */
export function forwardEngineLogs(logger: LoggerService, level: Level = engineLogLevel()): boolean {
  return setLogger((lvl, message, fields) => {
    // Never throw back into the native side.
    try {
      let meta: Record<string, unknown> = {};
      try {
        meta = JSON.parse(fields);
      } catch {
        meta = { fields };
      }
      const { target, ...rest } = meta;
      const log = logger[lvl] ?? logger.info;
      log.call(logger, message, { ...rest, ...(target ? { engineTarget: String(target) } : {}) });
    } catch {
      // A logger that fails has nowhere to report to.
    }
  }, level);
}
