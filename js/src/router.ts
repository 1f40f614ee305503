import express, { type NextFunction, type Request, type Response } from 'express';
import type { AuditorService, HttpAuthService, LoggerService, PermissionsService } from '@backstage/backend-plugin-api';
import type { JsonObject } from '@backstage/types';
import { AuthorizeResult, type BasicPermission } from '@backstage/plugin-permission-common';
import {
  catalogIngestionManagePermission,
  catalogIngestionReadPermission,
} from '@backstage/plugin-catalog-common/alpha';
import type { OpenChoreoIncrementalEntityProvider } from './provider';
import type { OpenChoreoIncrementalOptions } from './config';
import { redactUrls } from './database';
import { errorCode, errorMessage, type ProviderStatus } from './native';

export interface RouterOptions {
  providers: ReadonlyMap<string, { provider: OpenChoreoIncrementalEntityProvider; options: OpenChoreoIncrementalOptions }>;
  httpAuth: HttpAuthService;
  permissions: PermissionsService;
  /** Records the management routes' writes, with the caller (none when omitted). */
  auditor?: AuditorService;
  logger: LoggerService;
}

/** The auditor's event for the writes: one id, the route in `meta.actionType` (as the catalog's `entity-mutate`). */
export const AUDIT_EVENT_ID = 'incremental-provider-mutate';

/** The path the module opens to unauthenticated callers (`httpRouter.addAuthPolicy`). */
export const HEALTH_PATH = '/incremental/health';

/** Seconds a stalled burst may outlast its expected takeover before health says so. */
export const STALL_SLACK_SECONDS = 15;

/**
 * Whether a stall has lasted past its expected end: the first tick of any replica after
 * the dead holder's lease expired (`nextActionAt`) takes over, and ticks come every
 * `burstInterval`. A stall past that means no replica is ticking.
 */
export function stallOverdue(
  status: Pick<ProviderStatus, 'currentAction' | 'nextActionAt'>,
  burstInterval: number,
  now = Date.now(),
): boolean {
  return status.currentAction === 'stalled' && now > status.nextActionAt + (burstInterval + STALL_SLACK_SECONDS) * 1000;
}

class HttpError extends Error {
  constructor(readonly status: number, name: string, message: string) {
    super(message);
    this.name = name;
  }
}

const STATUS_BY_NAME: Record<string, number> = {
  InputError: 400,
  AuthenticationError: 401,
  NotAllowedError: 403,
  NotFoundError: 404,
  ConflictError: 409,
};

const STATUS_BY_CODE: Record<string, number> = {
  LOCKED: 409,
  CLOSED: 503,
  DATABASE: 503,
};

/**
 * Management routes, mounted by the catalog's httpRouter under `/api/catalog`.
 * Reads need `catalog.ingestion.read`, writes `catalog.ingestion.manage`.
 */
export function createRouter(options: RouterOptions): express.Router {
  const { providers, httpAuth, permissions, auditor, logger } = options;
  const secrets = [...providers.values()]
    .flatMap(p => [p.options.token, p.options.clientCredentials?.clientSecret])
    .filter((t): t is string => !!t);
  const scrub = (text: string) => secrets.reduce((acc, s) => acc.split(s).join('***'), redactUrls(text));

  const router = express.Router();

  const authorize = async (req: Request, permission: BasicPermission) => {
    // No principal filter: with auth on, the httpRouter has already refused unauthenticated
    // callers (401); with `backend.auth.dangerouslyDisableDefaultAuthPolicy` the permission
    // service decides (allow when permissions are disabled).
    const credentials = await httpAuth.credentials(req);
    const [decision] = await permissions.authorize([{ permission }], { credentials });
    if (decision.result !== AuthorizeResult.ALLOW) {
      throw new HttpError(403, 'NotAllowedError', `Missing permission ${permission.name}`);
    }
  };

  const lookup = (req: Request) => {
    const name = req.params.name;
    const entry = providers.get(name);
    if (!entry) {
      throw new HttpError(
        404,
        'NotFoundError',
        `No incremental provider named '${name}'; known: ${[...providers.keys()].join(', ') || 'none'}`,
      );
    }
    return entry;
  };

  /** A handler answers the request; a write's handler returns what its audit event adds. */
  type Handler = (req: Request, res: Response) => Promise<void | JsonObject>;
  const route = (permission: BasicPermission | undefined, handler: Handler) =>
    (req: Request, res: Response, next: NextFunction) => {
      (async () => {
        if (permission) await authorize(req, permission);
        await handler(req, res);
      })().catch(next);
    };

  /**
   * A write: recorded by the auditor from before the permission check (a refused attempt
   * is recorded too, as failed), with the caller the auditor reads from the request.
   */
  const write = (actionType: string, handler: Handler) =>
    (req: Request, res: Response, next: NextFunction) => {
      (async () => {
        const meta = { actionType, provider: req.params.name };
        const event = await auditor?.createEvent({ eventId: AUDIT_EVENT_ID, severityLevel: 'medium', request: req, meta });
        try {
          await authorize(req, catalogIngestionManagePermission);
          const outcome = await handler(req, res);
          await event?.success(outcome ? { meta: { ...meta, ...outcome } } : undefined);
        } catch (e) {
          // The audit log gets the error as the caller does: scrubbed of secrets.
          const error = new Error(scrub(errorMessage(e)));
          error.name = typeof (e as Error)?.name === 'string' ? (e as Error).name : 'Error';
          await event?.fail({ error });
          throw e;
        }
      })().catch(next);
    };

  router.get(
    HEALTH_PATH,
    route(undefined, async (_req, res) => {
      // Open to anyone: names and states only, no error text and no lease holder.
      const states = await Promise.all(
        [...providers.entries()].map(async ([name, { provider, options: o }]) => {
          try {
            const s = await provider.status();
            return {
              name,
              healthy: s.attempts === 0 && !stallOverdue(s, o.burstInterval),
              currentAction: s.currentAction,
              currentActionSince: s.currentActionSince,
              nextActionAt: s.nextActionAt,
              attempts: s.attempts,
            };
          } catch (e) {
            return { name, healthy: false, currentAction: 'unknown', error: errorCode(e) ?? 'UNKNOWN' };
          }
        }),
      );
      const healthy = states.every(s => s.healthy);
      res.status(healthy ? 200 : 503).json({ healthy, providers: states });
    }),
  );

  router.get(
    '/incremental/providers',
    route(catalogIngestionReadPermission, async (_req, res) => {
      const list = await Promise.all(
        [...providers.entries()].map(async ([name, { provider }]) => ({
          name,
          taskId: provider.taskId,
          status: await provider.status(),
        })),
      );
      res.json({ providers: list });
    }),
  );

  // `/providers/:name` and `/providers/:name/status`: the status object.
  router.get(
    ['/incremental/providers/:name', '/incremental/providers/:name/status'],
    route(catalogIngestionReadPermission, async (req, res) => {
      res.json(await lookup(req).provider.status());
    }),
  );

  router.post(
    '/incremental/providers/:name/reset',
    write('reset', async (req, res) => {
      const { provider } = lookup(req);
      await provider.reset();
      logger.info(`OpenChoreo ingestion of ${provider.getProviderName()} was reset`);
      res.json({ provider: provider.getProviderName(), action: 'reset' });
    }),
  );

  const refresh: Handler = async (req, res) => {
    const { provider } = lookup(req);
    const { triggered } = await provider.refresh();
    logger.info(`OpenChoreo ingestion of ${provider.getProviderName()} was triggered`, { triggered });
    res.json({ provider: provider.getProviderName(), action: 'refresh', triggered });
    return { triggered };
  };
  router.post('/incremental/providers/:name/refresh', write('refresh', refresh));
  router.post('/incremental/providers/:name/trigger', write('trigger', refresh));

  router.post(
    '/incremental/providers/:name/cancel',
    write('cancel', async (req, res) => {
      const { provider } = lookup(req);
      await provider.cancel();
      logger.info(`OpenChoreo ingestion of ${provider.getProviderName()} was cancelled`);
      res.json({ provider: provider.getProviderName(), action: 'cancel' });
    }),
  );

  // The catalog consistency check, now: `heal=false` only reports; `heal=now` also starts
  // the next cycle at once, which hands the missing entities over again.
  router.post(
    '/incremental/providers/:name/consistency',
    write('consistency-check', async (req, res) => {
      const { provider } = lookup(req);
      if (!provider.consistency) {
        throw new HttpError(409, 'ConflictError', 'the consistency check is disabled (openchoreo.incremental.consistencyCheck)');
      }
      const heal = String(req.query.heal ?? 'true');
      if (!['true', 'false', 'now'].includes(heal)) {
        throw new HttpError(400, 'InputError', `heal must be true, false or now, got '${heal}'`);
      }
      const report = await provider.consistency.check(heal !== 'false');
      const triggered = heal === 'now' && report.healMarked > 0 ? (await provider.refresh()).triggered : false;
      logger.info(`OpenChoreo catalog consistency check of ${provider.getProviderName()} was run on demand`, {
        unlisted: report.unlisted,
        heal,
        triggered,
      });
      res.json({ provider: provider.getProviderName(), report, refreshTriggered: triggered });
      return { heal, unlisted: report.unlisted, refreshTriggered: triggered };
    }),
  );

  // Errors as JSON, in Backstage's shape, never carrying the token or a DB password.
  router.use((err: unknown, req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const name = (err as { name?: unknown })?.name;
    const code = errorCode(err);
    let status = err instanceof HttpError ? err.status : undefined;
    status ??= typeof name === 'string' ? STATUS_BY_NAME[name] : undefined;
    status ??= code ? STATUS_BY_CODE[code] ?? 500 : 500;
    const message = scrub(errorMessage(err));
    if (status >= 500) {
      logger.error(`OpenChoreo ingestion route ${req.method} ${req.path} failed: ${message}`, { code });
    }
    res.status(status).json({
      error: {
        name: typeof name === 'string' && name !== 'Error' ? name : code ? 'EngineError' : 'Error',
        message,
        ...(code ? { code } : {}),
      },
      request: { method: req.method, url: req.originalUrl },
      response: { statusCode: status },
    });
  });

  return router;
}
