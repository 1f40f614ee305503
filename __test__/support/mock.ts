import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const MOCK_BIN = path.join(ROOT, 'target', 'release', 'mock-openchoreo');

export interface MockSummary {
  namespaces: number;
  projects: number;
  components: number;
  workloads: number;
  endpoints: number;
  endpointsWithSchema: number;
  byNamespace: Record<string, { projects: number; components: number; endpointsWithSchema: number }>;
}

/**
 * The platform lists the stand-in serves besides namespaces, projects, components and
 * workloads. Most suites count the four basic kinds, so they start the stand-in with
 * none of these items (the lists are still served, empty); `__test__/everyKind.test.ts`
 * starts it with every kind (`everyKind`).
 */
const PLATFORM_LISTS = [
  'environments', 'observabilityalertsnotificationchannels', 'dataplanes', 'workflowplanes', 'observabilityplanes',
  'deploymentpipelines', 'componenttypes', 'traits', 'resourcetypes', 'projecttypes', 'resources', 'workflows',
  'clustercomponenttypes', 'clusterresourcetypes', 'clusterprojecttypes', 'clustertraits', 'clusterworkflows',
  'clusterdataplanes', 'clusterobservabilityplanes', 'clusterworkflowplanes',
];
const BASIC_KINDS_ONLY = PLATFORM_LISTS.flatMap(list => [`--${list}`, '0']);

/** An item of an OpenChoreo list. */
export interface ApiItem {
  kind?: string;
  metadata: { name: string; namespace?: string; annotations?: Record<string, string>; labels?: Record<string, string> };
  spec?: Record<string, any>;
}

/** The stand-in OpenChoreo API (`mock-openchoreo`), run as a child process. */
export class MockOpenChoreo {
  private constructor(private readonly child: ChildProcess, readonly url: string) {}

  /**
   * Starts `mock-openchoreo --port 0 ...args` and waits for its "listening" line. With
   * `everyKind` the platform kinds keep the stand-in's default counts and it serves the
   * custom templates its component types name (`--templates local`).
   */
  static async start(
    args: string[] = [],
    { everyKind = false, timeoutMs = 15000 }: { everyKind?: boolean; timeoutMs?: number } = {},
  ): Promise<MockOpenChoreo> {
    const kinds = everyKind ? ['--templates', 'local'] : BASIC_KINDS_ONLY;
    const child = spawn(MOCK_BIN, ['--port', '0', ...kinds, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', d => {
      stderr += d.toString();
    });
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`mock-openchoreo did not start within ${timeoutMs} ms: ${stderr}`));
      }, timeoutMs);
      child.stdout!.on('data', d => {
        out += d.toString();
        const m = out.match(/listening on (http:\/\/\S+)/);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', code => {
        clearTimeout(timer);
        reject(new Error(`mock-openchoreo exited (${code}) before listening: ${stderr}`));
      });
    });
    child.stdout!.resume();
    return new MockOpenChoreo(child, url);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise<void>(resolve => this.child.once('exit', () => resolve()));
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  private async admin<T>(method: string, p: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.url}/admin${p}`, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`mock admin ${method} ${p}: ${res.status} ${await res.text()}`);
    const text = await res.text();
    return (text ? JSON.parse(text) : undefined) as T;
  }

  /** Every item of an `/api/v1` list (`namespaces/<ns>/<plural>` or `<plural>`), all pages. */
  async listAll(list: string): Promise<ApiItem[]> {
    const items: ApiItem[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const query = cursor ? `?cursor=${encodeURIComponent(cursor)}` : '';
      const res = await fetch(`${this.url}/api/v1/${list}${query}`);
      if (!res.ok) throw new Error(`GET /api/v1/${list}: ${res.status} ${await res.text()}`);
      const body = (await res.json()) as { items: ApiItem[]; pagination?: { nextCursor?: string } };
      items.push(...body.items);
      cursor = body.pagination?.nextCursor;
      if (!cursor) return items;
    }
    throw new Error(`GET /api/v1/${list}: more than 1000 pages`);
  }

  /** The stand-in's kinds (`/admin/kinds`): plural, OpenChoreo kind, scope. */
  kinds(): Promise<Array<{ plural: string; kind: string; scope: 'namespace' | 'cluster'; served: boolean }>> {
    return this.admin('GET', '/kinds');
  }

  summary(): Promise<MockSummary> {
    return this.admin('GET', '/summary');
  }

  namespaces(): Promise<string[]> {
    return this.admin('GET', '/namespaces');
  }

  names(ns: string, kind: 'projects' | 'components' | 'workloads'): Promise<string[]> {
    return this.admin('GET', `/namespaces/${encodeURIComponent(ns)}/${kind}`);
  }

  deleteComponent(ns: string, name: string): Promise<unknown> {
    return this.admin('DELETE', `/namespaces/${encodeURIComponent(ns)}/components/${encodeURIComponent(name)}`);
  }

  /** Deletes one item of a namespaced kind (`workloads`, ...). */
  deleteItem(ns: string, kind: string, name: string): Promise<unknown> {
    return this.admin('DELETE', `/namespaces/${encodeURIComponent(ns)}/${kind}/${encodeURIComponent(name)}`);
  }

  /** One item of a namespaced kind (`components`, `workloads`, ...), as the stand-in holds it. */
  getItem(ns: string, kind: string, name: string): Promise<Record<string, any>> {
    return this.admin('GET', `/namespaces/${encodeURIComponent(ns)}/${kind}/${encodeURIComponent(name)}`);
  }

  putItem(ns: string, kind: string, name: string, item: unknown): Promise<unknown> {
    return this.admin('PUT', `/namespaces/${encodeURIComponent(ns)}/${kind}/${encodeURIComponent(name)}`, item);
  }

  putFaults(faults: Record<string, unknown>): Promise<unknown> {
    return this.admin('PUT', '/faults', faults);
  }

  /** Changes the token endpoint's settings (`clients`, `revoked`, `tokenLifetimeMs`, ...). */
  patchOAuth(settings: Record<string, unknown>): Promise<{ settings: unknown; stats: { tokensIssued: number } }> {
    return this.admin('PATCH', '/oauth', settings);
  }
}
