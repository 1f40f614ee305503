import { coreServices, createServiceFactory } from '@backstage/backend-plugin-api';
import { mockServices, startTestBackend } from '@backstage/backend-test-utils';
import { DatabaseManager } from '@backstage/backend-defaults/database';
import { ConfigReader } from '@backstage/config';
import type { Knex } from 'knex';
import type { JsonObject } from '@backstage/types';
import catalogPlugin from '@backstage/plugin-catalog-backend';
import request from 'supertest';
import type { Server } from 'node:http';
import openChoreoIncremental from '../../js/src';

type Feature = Parameters<typeof startTestBackend>[0]['features'] extends readonly (infer F)[] | undefined ? F : never;

export interface CatalogEntity {
  apiVersion: string;
  kind: string;
  metadata: {
    name: string;
    namespace?: string;
    annotations?: Record<string, string>;
    [key: string]: unknown;
  };
  spec?: Record<string, unknown>;
  relations?: Array<{ type: string; targetRef: string }>;
  status?: { items?: Array<{ type: string; level: string; message: string; error?: unknown }> };
}

export interface TestCatalog {
  server: Server;
  stop(): Promise<void>;
}

/** The `openchoreo` config block the tests start from. */
export function openChoreoConfig(baseUrl: string, incremental: Record<string, unknown> = {}) {
  return {
    openchoreo: {
      baseUrl,
      incremental: {
        burstLength: 5,
        burstInterval: 1,
        restLength: 0,
        chunkSize: 50,
        backoff: [1],
        ...incremental,
      },
    },
  };
}

/**
 * A Backstage backend with the REAL catalog plugin and, unless `withModule: false`, this
 * module (with the real addon).
 */
export async function startCatalog(options: {
  config: Record<string, unknown>;
  features?: Feature[];
  withModule?: boolean;
  /** `false`: the catalog plugin comes with `features` (e.g. inside a feature loader). */
  withCatalog?: boolean;
  /** Replaces the (tracked) Backstage database service. */
  database?: Feature;
}): Promise<TestCatalog> {
  const clients = new Set<Knex>();
  const features: Feature[] = [
    mockServices.rootConfig.factory({ data: options.config as JsonObject }) as Feature,
    options.database ?? (trackingDatabase(clients) as Feature),
    ...(options.withCatalog === false ? [] : [catalogPlugin as Feature]),
    ...(options.withModule === false ? [] : [openChoreoIncremental as Feature]),
    ...(options.features ?? []),
  ];
  const backend = await startTestBackend({ features });
  return {
    server: backend.server,
    stop: async () => {
      await backend.stop();
      await Promise.all([...clients].map(destroyWhenIdle));
    },
  };
}

/** Lets queries still running after `stop()` (catalog stitching) finish, then destroys. */
async function destroyWhenIdle(client: Knex): Promise<void> {
  const pool = (client.client as { pool?: { numUsed(): number; numPendingAcquires(): number } }).pool;
  const deadline = Date.now() + 10000;
  while (pool && (pool.numUsed() > 0 || pool.numPendingAcquires() > 0) && Date.now() < deadline) {
    await new Promise(r => setTimeout(r, 50));
  }
  await client.destroy();
}

/**
 * Backstage's database service (`backend.database`, in-memory SQLite by default), with
 * its knex clients destroyed on `stop()`: Backstage never destroys SQLite clients on
 * shutdown, and their pool timers would keep jest alive.
 */
function trackingDatabase(clients: Set<Knex>) {
  return createServiceFactory({
    service: coreServices.database,
    deps: {
      config: coreServices.rootConfig,
      lifecycle: coreServices.lifecycle,
      logger: coreServices.logger,
      pluginMetadata: coreServices.pluginMetadata,
      rootLifecycle: coreServices.rootLifecycle,
      rootLogger: coreServices.rootLogger,
    },
    async createRootContext({ config, rootLifecycle, rootLogger }) {
      const effective = config.getOptional('backend.database')
        ? config
        : new ConfigReader({ backend: { database: { client: 'better-sqlite3', connection: ':memory:' } } });
      return DatabaseManager.fromConfig(effective, { rootLifecycle, rootLogger });
    },
    async factory({ pluginMetadata, lifecycle, logger }, manager) {
      const inner = manager.forPlugin(pluginMetadata.getId(), { lifecycle, logger });
      return {
        ...inner,
        getClient: async () => {
          const client = await inner.getClient();
          clients.add(client);
          return client;
        },
      };
    },
  });
}

/** All entities whose `managed-by-location` is `provider:<providerName>`. */
export function providerEntities(server: Server, providerName = 'OpenChoreoEntityProvider'): Promise<CatalogEntity[]> {
  return catalogEntities(server, `metadata.annotations.backstage.io/managed-by-location=provider:${providerName}`);
}

/** Every entity of the catalog (that `filter` selects, when given), all pages. */
export async function catalogEntities(server: Server, filter?: string): Promise<CatalogEntity[]> {
  const out: CatalogEntity[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 100; page++) {
    const query: Record<string, string> = cursor ? { cursor } : { ...(filter ? { filter } : {}), limit: '500' };
    const res = await request(server).get('/api/catalog/entities/by-query').query(query);
    if (res.status !== 200) throw new Error(`catalog query: ${res.status} ${JSON.stringify(res.body)}`);
    out.push(...(res.body.items as CatalogEntity[]));
    cursor = res.body.pageInfo?.nextCursor;
    if (!cursor) break;
  }
  return out;
}

export function entityRef(e: CatalogEntity): string {
  return `${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase();
}

/** Polls `probe` until it returns a value other than `undefined`, or fails at the deadline. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  { timeoutMs = 60000, intervalMs = 250 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    }
    await new Promise(r => setTimeout(r, intervalMs));
  }
}

/** The entity refs the stand-in should produce (Domain, System, Component; APIs counted). */
export async function expectedRefs(mock: {
  namespaces(): Promise<string[]>;
  names(ns: string, kind: 'projects' | 'components'): Promise<string[]>;
}): Promise<Set<string>> {
  const refs = new Set<string>();
  for (const ns of await mock.namespaces()) {
    refs.add(`domain:default/${ns}`.toLowerCase());
    for (const p of await mock.names(ns, 'projects')) refs.add(`system:${ns}/${p}`.toLowerCase());
    for (const c of await mock.names(ns, 'components')) refs.add(`component:${ns}/${c}`.toLowerCase());
  }
  return refs;
}

// The default mock database leaves a knex pool (and its reaping interval) alive when
// start-up fails; a start-up that must fail gets no database at all.
const noDatabase = createServiceFactory({
  service: coreServices.database,
  deps: {},
  factory: () => ({
    getClient: async () => {
      throw new Error('no database in a start-up failure test');
    },
  }),
});

/**
 * Starts a backend that must fail; returns the start-up error text. `startTestBackend`
 * leaves its HTTP server listening when start-up fails (backend-test-utils 1.11.7), which
 * would keep jest alive: servers that appeared during the attempt are closed here.
 */
export async function startupFailure(config: Record<string, unknown>, features: Feature[] = []): Promise<string> {
  const handles = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  const before = new Set(handles());
  try {
    const backend = await startCatalog({ config, database: noDatabase as Feature, features });
    await backend.stop();
  } catch (e) {
    for (const h of handles()) {
      if (!before.has(h) && h instanceof (require('node:net').Server as typeof import('node:net').Server)) {
        await new Promise<void>(resolve => (h as import('node:net').Server).close(() => resolve()));
      }
    }
    const err = e as { message?: string; cause?: { message?: string } };
    return `${err.message ?? ''} ${err.cause?.message ?? ''}`;
  }
  throw new Error('expected start-up to fail');
}
