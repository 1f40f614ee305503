import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
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

/**
 * How the state database follows a `backend.database.client` that names a database
 * server: the URL scheme sqlx takes, and how Backstage's `ssl` settings read there.
 * A table, so each client differs from the others only by data.
 */
interface ServerClient {
  /** Shown in the start-up log line. */
  label: string;
  scheme: 'postgres' | 'mysql';
  /** Whether `pluginDivisionMode: schema` exists for it (Backstage: PostgreSQL only). */
  schemas: boolean;
  /** The query parameters for TLS: verifying the server, or encrypting only. */
  ssl: { param: string; verify: string; encrypt: string; ca: string };
}

const POSTGRES: ServerClient = {
  label: 'pg',
  scheme: 'postgres',
  schemas: true,
  ssl: { param: 'sslmode', verify: 'verify-full', encrypt: 'require', ca: 'sslrootcert' },
};
const MYSQL: ServerClient = {
  label: 'mysql',
  scheme: 'mysql',
  schemas: false,
  ssl: { param: 'ssl-mode', verify: 'VERIFY_IDENTITY', encrypt: 'REQUIRED', ca: 'ssl-ca' },
};

/** Backstage's database clients that name a server (knex's client names). */
export const SERVER_CLIENTS: Record<string, ServerClient> = {
  pg: POSTGRES,
  mysql: { ...MYSQL, label: 'mysql' },
  mysql2: { ...MYSQL, label: 'mysql2' },
};

const EXPLICIT_URL_KEY = 'openchoreo.incremental.database.url';

/** An error naming the key that cannot be honoured and what to set instead. */
function cannotHonour(key: string, what: string): Error {
  return new Error(
    `Invalid config: ${key} ${what} cannot be honoured by the OpenChoreo ingestion state (the engine connects on ` +
      `its own, without Backstage's database driver); set ${EXPLICIT_URL_KEY} to the state database's URL instead`,
  );
}

/**
 * A CA certificate given inline (Backstage's `ssl.ca` is the PEM text) as a file: sqlx
 * reads the CA from a file. One file per certificate, named by its hash, readable by
 * this user only.
 */
function caFile(pem: string): string {
  const name = `openchoreo-incremental-ca-${createHash('sha256').update(pem).digest('hex').slice(0, 16)}.pem`;
  const file = path.join(os.tmpdir(), name);
  fs.writeFileSync(file, pem, { mode: 0o600 });
  return file;
}

function serverUrl(db: Config, client: string, baseClient: string, spec: ServerClient): { url: string; source: string } {
  const mode = db.getOptionalString('pluginDivisionMode') ?? 'database';
  const prefix = db.getOptionalString('prefix') || 'backstage_plugin_';
  const schemaPrefix = db.getOptionalString('schemaPrefix') || '';
  if (mode === 'schema' && !spec.schemas) {
    throw cannotHonour('backend.database.pluginDivisionMode', `'schema' with client '${client}'`);
  }

  const baseRaw = client === baseClient ? normalize(db.getOptional('connection'), false) : {};
  const pluginRaw = normalize(db.getOptional(`plugin.${PLUGIN_ID}.connection`), false);
  for (const [key, c] of [
    ['backend.database.connection', baseRaw],
    [`backend.database.plugin.${PLUGIN_ID}.connection`, pluginRaw],
  ] as const) {
    // Connectors of Backstage's own (Cloud SQL, Azure, RDS IAM tokens) exist only
    // inside its driver.
    if (typeof c.type === 'string' && c.type !== 'default') {
      throw cannotHonour(`${key}.type`, `'${c.type}'`);
    }
  }
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
    const sslmode = u.searchParams.get(spec.ssl.param) ?? u.searchParams.get('sslmode');
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
    params.set(spec.ssl.param, c.sslmode);
  } else if (c.ssl) {
    if (typeof c.ssl !== 'object' && c.ssl !== true) {
      // mysql2's named profiles ('Amazon RDS') bundle certificates of its own.
      throw cannotHonour('backend.database.connection.ssl', `'${String(c.ssl)}'`);
    }
    const ssl = c.ssl as Record<string, unknown> | true;
    const verify = !(typeof ssl === 'object' && ssl.rejectUnauthorized === false);
    params.set(spec.ssl.param, verify ? spec.ssl.verify : spec.ssl.encrypt);
    if (typeof ssl === 'object' && typeof ssl.ca === 'string' && verify) {
      params.set(spec.ssl.ca, caFile(ssl.ca));
    }
  }
  let source = `backend.database (${spec.label}, ${mode === 'schema' ? `schema ${schemaPrefix}${PLUGIN_ID}` : `database ${database}`})`;
  if (mode === 'schema') {
    params.set(`options[search_path]`, `${schemaPrefix}${PLUGIN_ID}`);
  }
  const query = params.toString() ? `?${params.toString()}` : '';
  if (!database) source += ', database from the connection user';
  return {
    url: `${spec.scheme}://${auth}${hostPart}${port}/${database ? encodeURIComponent(database) : ''}${query}`,
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
 * - `pg`, `mysql`, `mysql2` ({@link SERVER_CLIENTS}): the catalog plugin's database
 *   (`<prefix>catalog`, `backstage_plugin_catalog` by default, or
 *   `backend.database.plugin.catalog.connection.database`); on PostgreSQL with
 *   `pluginDivisionMode: schema`, the configured database and the `catalog` schema.
 *   `database.getClient()` runs first so that Backstage has created it. `ssl` becomes
 *   the driver's TLS mode (verifying unless `rejectUnauthorized: false`) and `ca` its CA
 *   file; what only Backstage's driver can do (`connection.type` connectors, mysql2's
 *   named `ssl` profiles, MySQL schemas) is refused with an error naming the key.
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

  const server = SERVER_CLIENTS[client];
  if (server) {
    await database.getClient();
    const { url, source } = serverUrl(db, client, baseClient, server);
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
      `set ${EXPLICIT_URL_KEY} to a postgres://, mysql:// or sqlite: URL`,
  );
}
