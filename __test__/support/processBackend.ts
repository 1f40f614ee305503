import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { ROOT } from './mock';

export const PROVIDER = 'OpenChoreoEntityProvider';
const STATUS_PATH = `/api/catalog/incremental/providers/${PROVIDER}/status`;

/** A free TCP port on the loopback interface. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>(resolve => server.close(() => resolve()));
  return port;
}

/**
 * The app-config of a process backend: the demo's plugins on `port`, Backstage's
 * database `database`, this module reading OpenChoreo at `baseUrl` with `incremental`.
 * The auth policy is off so the test calls the routes without a token, as the demo does.
 */
export function processBackendConfig(options: {
  port: number;
  database: Record<string, unknown>;
  baseUrl: string;
  incremental: Record<string, unknown>;
}) {
  return {
    app: { baseUrl: 'http://localhost:3000' },
    backend: {
      baseUrl: `http://127.0.0.1:${options.port}`,
      listen: { port: options.port, host: '127.0.0.1' },
      auth: { dangerouslyDisableDefaultAuthPolicy: true },
      database: options.database,
    },
    catalog: { rules: [{ allow: ['Domain', 'System', 'Component', 'API', 'Group', 'User', 'Resource', 'Location', 'Template'] }] },
    openchoreo: { baseUrl: options.baseUrl, incremental: options.incremental },
  };
}

/**
 * A real Backstage backend in a child process: `dev/backend.mjs` (the catalog plugin,
 * the scaffolder entity model, the events plugin and this module from `dist/`) with a
 * config file of the test's. Its output goes to `<dir>/<name>.log` (JSON lines).
 */
export class ProcessBackend {
  readonly url: string;
  readonly startedAt = Date.now();
  readyAt?: number;
  killedAt?: number;
  private exited: Promise<void>;

  private constructor(private readonly child: ChildProcess, port: number, readonly logFile: string) {
    this.url = `http://127.0.0.1:${port}`;
    this.exited = new Promise(resolve => child.once('exit', () => resolve()));
  }

  get pid(): number {
    return this.child.pid!;
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts `node dev/backend.mjs --config <configFile>`; resolves once spawned. */
  static spawn(configFile: string, port: number, logFile: string): ProcessBackend {
    if (!fs.existsSync(path.join(ROOT, 'dist', 'index.js'))) {
      throw new Error('dist/index.js is missing: run `npm run build` (the process backend loads the built module)');
    }
    const out = fs.openSync(logFile, 'a');
    const child = spawn(process.execPath, ['dev/backend.mjs', '--config', configFile], {
      cwd: ROOT,
      // JSON log lines (production format); info is where bursts and cycles are logged.
      env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'info' },
      stdio: ['ignore', out, out],
    });
    fs.closeSync(out);
    return new ProcessBackend(child, port, logFile);
  }

  /** Waits until the status route answers 200 (the catalog and the module are up). */
  async ready(timeoutMs = 60000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.alive) throw new Error(`the backend exited before it was ready; see ${this.logFile}`);
      try {
        const res = await fetch(this.url + STATUS_PATH, { signal: AbortSignal.timeout(2000) });
        if (res.status === 200) {
          this.readyAt = Date.now();
          return;
        }
      } catch {
        // Not listening yet.
      }
      await sleep(100);
    }
    throw new Error(`the backend was not ready within ${timeoutMs} ms; see ${this.logFile}`);
  }

  /** The provider's status, with the times the request was sent and answered. */
  async status(): Promise<{ sent: number; received: number; body: any } | undefined> {
    const sent = Date.now();
    try {
      const res = await fetch(this.url + STATUS_PATH, { signal: AbortSignal.timeout(3000) });
      if (res.status !== 200) return undefined;
      const body = await res.json();
      return { sent, received: Date.now(), body };
    } catch {
      return undefined;
    }
  }

  async post(route: string): Promise<any> {
    const res = await fetch(this.url + route, { method: 'POST', signal: AbortSignal.timeout(60000) });
    const text = await res.text();
    if (!res.ok) throw new Error(`POST ${route}: ${res.status} ${text}`);
    return JSON.parse(text);
  }

  /** SIGKILL: no shutdown hook runs, the lease is not released, nothing is flushed. */
  async kill(): Promise<void> {
    this.killedAt = Date.now();
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM (Backstage's orderly shutdown), SIGKILL after 20 s. */
  async stop(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20000);
    await this.exited;
    clearTimeout(timer);
  }

  /** The JSON log lines the process wrote. */
  logLines(): Array<Record<string, any>> {
    return fs
      .readFileSync(this.logFile, 'utf8')
      .split('\n')
      .flatMap(line => {
        try {
          const parsed = JSON.parse(line);
          return parsed && typeof parsed === 'object' ? [parsed] : [];
        } catch {
          return [];
        }
      });
  }
}

/** Every ref of the catalog's filtered listing of the provider (the module's own filter), all pages. */
export async function listedRefs(url: string, providerName = PROVIDER): Promise<Set<string>> {
  const refs = new Set<string>();
  const first = new URLSearchParams({
    filter: `metadata.annotations.backstage.io/managed-by-location=provider:${providerName}`,
    fields: 'kind,metadata.namespace,metadata.name',
    limit: '500',
  });
  let query = first.toString();
  for (let page = 0; page < 1000; page++) {
    const res = await fetch(`${url}/api/catalog/entities/by-query?${query}`, { signal: AbortSignal.timeout(30000) });
    if (!res.ok) throw new Error(`catalog listing: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as { items: any[]; pageInfo?: { nextCursor?: string } };
    for (const e of body.items) refs.add(`${e.kind}:${e.metadata.namespace ?? 'default'}/${e.metadata.name}`.toLowerCase());
    const next = body.pageInfo?.nextCursor;
    if (!next || body.items.length === 0) return refs;
    query = new URLSearchParams({ cursor: next }).toString();
  }
  throw new Error('catalog listing: more than 1000 pages');
}

export const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));
