// The PostgreSQL server the benchmarks create their databases on: OC_BENCH_POSTGRES, else
// OC_TEST_POSTGRES_URL's server, else the development machine's.
export function postgresServer() {
  const raw = process.env.OC_BENCH_POSTGRES ?? process.env.OC_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432';
  const u = new URL(raw);
  return {
    host: u.hostname || '127.0.0.1',
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username || 'postgres'),
    password: u.password ? decodeURIComponent(u.password) : undefined,
    /** The database administrative statements (CREATE/DROP DATABASE) connect to. */
    database: u.pathname.length > 1 ? decodeURIComponent(u.pathname.slice(1)) : 'postgres',
  };
}

/** The URL of database `db` on `server`. */
export function postgresUrl(server, db) {
  const auth = `${encodeURIComponent(server.user)}${server.password ? `:${encodeURIComponent(server.password)}` : ''}@`;
  return `postgres://${auth}${server.host}:${server.port}/${db}`;
}
