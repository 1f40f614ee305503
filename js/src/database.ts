import * as path from 'node:path';
import type { Config } from '@backstage/config';
import type { DatabaseService } from '@backstage/backend-plugin-api';

/** The SQLite file the engine uses next to Backstage's own SQLite files. */
export const SQLITE_FILENAME = 'openchoreo-incremental.sqlite';
const PLUGIN_ID = 'catalog';

export interface StateDatabase {
  /** The engine's `databaseUrl`. Contains the password: never log it. */
  url: string;
  /** `url` with credentials replaced by `***`: safe for logs and errors. */
  redacted: string;
  /** How it was chosen, for the start-up log line. */
  source: string;
}

/** Replaces the userinfo of every `scheme://user:password@host` in `text` by `***`. */
export function redactUrls(text: string): string {
  // Up to the last '@' of the word, so a password with a raw '@' or '/' is covered too
  // (over-redacting is the safe side); `password=` query parameters as well.
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s'"]*@/gi, '$1***@')
    .replace(/([?&]password=)[^&\s'"]*/gi, '$1***');
}

type Connection = Record<string, unknown>;

function normalize(connection: unknown, asFilename: boolean): Connection {
  if (connection === undefined || connection === null) return {};
  if (typeof connection === 'string') {
    if (asFilename) return { filename: connection };
    return { connectionString: connection };
  }
  if (typeof connection === 'object') return { ...(connection as Connection) };
  return {};
}

/** Backstage's merge: the plugin's connection over the base one unless the client differs. */
function pluginConnection(db: Config, client: string, baseClient: string, sqlite: boolean): Connection {
  const base = client === baseClient ? normalize(db.getOptional('connection'), sqlite) : {};
  const plugin = normalize(db.getOptional(`plugin.${PLUGIN_ID}.connection`), sqlite);
  return { ...base, ...plugin };
}

function sqliteUrl(file: string): string {
  return `sqlite://${path.resolve(file)}`;
}

function pgUrl(db: Config, client: string, baseClient: string): { url: string; source: string } {
  const mode = db.getOptionalString('pluginDivisionMode') ?? 'database';
  const prefix = db.getOptionalString('prefix') || 'backstage_plugin_';
  const schemaPrefix = db.getOptionalString('schemaPrefix') || '';

  const baseRaw = client === baseClient ? normalize(db.getOptional('connection'), false) : {};
  const pluginRaw = normalize(db.getOptional(`plugin.${PLUGIN_ID}.connection`), false);
  const fromString = (c: Connection): Connection => {
    if (typeof c.connectionString !== 'string') return c;
    const u = new URL(c.connectionString);
    const parsed: Connection = {
      host: decodeURIComponent(u.hostname),
      port: u.port ? Number(u.port) : undefined,
      user: u.username ? decodeURIComponent(u.username) : undefined,
      password: u.password ? decodeURIComponent(u.password) : undefined,
      database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : undefined,
    };
    const sslmode = u.searchParams.get('sslmode');
    if (sslmode) parsed.sslmode = sslmode;
    const { connectionString: _ignored, ...rest } = c;
    return { ...stripUndefined(parsed), ...rest };
  };
  let base = fromString(baseRaw);
  const plugin = fromString(pluginRaw);
  if (mode !== 'schema') {
    const { database: _dropped, ...rest } = base;
    base = rest;
  }
  const c: Connection = { ...base, ...plugin };

  const database =
    typeof c.database === 'string' ? c.database : mode === 'schema' ? undefined : `${prefix}${PLUGIN_ID}`;
  const host = typeof c.host === 'string' && c.host ? c.host : 'localhost';
  const port = c.port !== undefined && c.port !== '' ? `:${c.port}` : '';
  const user = typeof c.user === 'string' ? encodeURIComponent(c.user) : '';
  const password = typeof c.password === 'string' ? `:${encodeURIComponent(c.password)}` : '';
  const auth = user ? `${user}${password}@` : '';
  const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;

  const params = new URLSearchParams();
  if (typeof c.sslmode === 'string') {
    params.set('sslmode', c.sslmode);
  } else if (c.ssl) {
    const ssl = c.ssl as Record<string, unknown> | boolean;
    params.set('sslmode', typeof ssl === 'object' && ssl.rejectUnauthorized === false ? 'require' : 'verify-full');
  }
  let source = `backend.database (pg, ${mode === 'schema' ? `schema ${schemaPrefix}${PLUGIN_ID}` : `database ${database}`})`;
  if (mode === 'schema') {
    params.set(`options[search_path]`, `${schemaPrefix}${PLUGIN_ID}`);
  }
  const query = params.toString() ? `?${params.toString()}` : '';
  if (!database) source += ', database from the connection user';
  return {
    url: `postgres://${auth}${hostPart}${port}/${database ? encodeURIComponent(database) : ''}${query}`,
    source,
  };
}

function stripUndefined(c: Connection): Connection {
  return Object.fromEntries(Object.entries(c).filter(([, v]) => v !== undefined));
}

/**
 * The engine's state database, derived from `backend.database` (so it lives where the
 * catalog's own data lives) unless `openchoreo.incremental.database.url` is set:
 *
 * - `pg`: the catalog plugin's database (`<prefix>catalog`, `backstage_plugin_catalog` by
 *   default, or `backend.database.plugin.catalog.connection.database`); with
 *   `pluginDivisionMode: schema`, the configured database and the `catalog` schema.
 *   `database.getClient()` runs first so that Backstage has created it.
 * - `better-sqlite3` / `sqlite3`: `:memory:` -> `sqlite::memory:`; a file or directory -> a
 *   SEPARATE file `openchoreo-incremental.sqlite` next to the catalog's, never the file
 *   Backstage's own driver has open.
 * - no `backend.database` (tests): `sqlite::memory:`.
 */
export async function resolveStateDatabase(
  rootConfig: Config,
  database: Pick<DatabaseService, 'getClient'>,
  explicitUrl?: string,
): Promise<StateDatabase> {
  if (explicitUrl) {
    return { url: explicitUrl, redacted: redactUrls(explicitUrl), source: 'openchoreo.incremental.database.url' };
  }
  const db = rootConfig.getOptionalConfig('backend.database');
  if (!db || !db.has('client')) {
    return { url: 'sqlite::memory:', redacted: 'sqlite::memory:', source: 'no backend.database: in memory' };
  }
  const baseClient = db.getString('client');
  const client = db.getOptionalString(`plugin.${PLUGIN_ID}.client`) ?? baseClient;

  if (client === 'pg') {
    await database.getClient();
    const { url, source } = pgUrl(db, client, baseClient);
    return { url, redacted: redactUrls(url), source };
  }

  if (client === 'better-sqlite3' || client === 'sqlite3') {
    const c = pluginConnection(db, client, baseClient, true);
    if (c.filename === ':memory:' || (c.filename === undefined && c.directory === undefined)) {
      return { url: 'sqlite::memory:', redacted: 'sqlite::memory:', source: `backend.database (${client}, :memory:)` };
    }
    const directory = typeof c.directory === 'string' ? c.directory : '.';
    const catalogFile = path.join(directory, typeof c.filename === 'string' ? c.filename : `${PLUGIN_ID}.sqlite`);
    const file = path.join(path.dirname(catalogFile), SQLITE_FILENAME);
    const url = sqliteUrl(file);
    return { url, redacted: url, source: `backend.database (${client}, next to ${catalogFile})` };
  }

  throw new Error(
    `Invalid config: backend.database.client '${client}' is not supported for the OpenChoreo ingestion state; ` +
      `set openchoreo.incremental.database.url to a postgres:// or sqlite: URL`,
  );
}
