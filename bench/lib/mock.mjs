// The OpenChoreo stand-in (target/release/mock-openchoreo) for the benchmark.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { CLUSTER_PLATFORM, CUSTOM_TEMPLATE_ANNOTATION, PLATFORM_LISTS } from './kinds.mjs';
import { fetchPage } from './openchoreo.mjs';

export async function startMock(bin, spec) {
  const args = [
    '--port', '0',
    '--namespaces', String(spec.namespaces),
    '--projects', String(spec.projects),
    '--components', String(spec.components),
    '--endpoints', String(spec.endpoints ?? 2),
    '--schema-share', String(spec.schemaShare ?? 0.5),
    '--dependencies', String(spec.dependencies ?? 1),
    // Cursors never expire: a capped run is shorter than the default 300 s anyway, and
    // an expired cursor would only measure the restart path.
    '--cursor-ttl-secs', '0',
    ...(spec.args ?? []),
  ];
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise((resolve, reject) => {
    let buffer = '';
    const timer = setTimeout(() => reject(new Error('the stand-in did not start within 30 s')), 30_000);
    child.on('exit', code => reject(new Error(`the stand-in exited (${code})`)));
    child.stdout.on('data', chunk => {
      buffer += chunk;
      const m = buffer.match(/listening on (http:\/\/\S+)/);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
  });
  child.stdout.resume();
  const admin = async (path, init) => {
    const res = await fetch(`${url}${path}`, init);
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status}`);
    return res.status === 204 ? undefined : res.json();
  };
  return {
    url,
    pid: child.pid,
    /** `/admin/summary`, plus `schemaRequests`: the `/schema` calls a cycle needs. */
    summary: async () => {
      const summary = await admin('/admin/summary');
      return { ...summary, schemaRequests: await schemaRequests(url, summary) };
    },
    stats: () => admin('/admin/stats'),
    resetStats: () => admin('/admin/stats/reset', { method: 'POST' }),
    /** Any `/admin` path (JSON in and out). */
    admin,
    /** user+sys CPU seconds the stand-in has used so far (/proc/<pid>/stat). */
    cpuSeconds() {
      try {
        const fields = readFileSync(`/proc/${child.pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks; USER_HZ = 100
      } catch {
        return undefined;
      }
    },
    async stop() {
      if (child.exitCode !== null) return;
      child.removeAllListeners('exit');
      const exited = new Promise(resolve => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/**
 * `GET <list>/<name>/schema` calls a cycle needs: one per item of a type list whose
 * Template is built from its schema, except items that name their own template (read
 * through the API once, before the runs; the stats are reset before each).
 */
async function schemaRequests(url, summary) {
  let n = 0;
  const count = async path => {
    let cursor;
    do {
      const page = await fetchPage(url, path, { cursor, limit: 100, optional: true });
      n += page.items.filter(i => !i.metadata?.annotations?.[CUSTOM_TEMPLATE_ANNOTATION]).length;
      cursor = page.nextCursor;
    } while (cursor);
  };
  for (const { plural, scope, schema } of PLATFORM_LISTS) {
    if (!schema) continue;
    if (scope === 'cluster') await count(`/${plural}`);
    else for (const ns of Object.keys(summary.byNamespace)) await count(`/namespaces/${encodeURIComponent(ns)}/${plural}`);
  }
  return n;
}

/**
 * Fewest requests for a full walk at page size `limit`: every served list (the stand-in's
 * min_list_calls_all; one call for an empty one) plus the `/schema` calls.
 */
export function minRequests(summary, limit) {
  const pages = n => Math.max(1, Math.ceil(n / limit));
  let total = pages(summary.namespaces);
  for (const c of Object.values(summary.byNamespace)) {
    total += pages(c.projects) + pages(c.components) + pages(c.workloads);
    for (const n of Object.values(c.kinds ?? {})) total += pages(n);
  }
  for (const { plural } of CLUSTER_PLATFORM) {
    if (summary.kinds?.[plural] !== undefined) total += pages(summary.kinds[plural]);
  }
  return total + (summary.schemaRequests ?? 0);
}

/**
 * Entities a complete cycle produces: Domains, Systems, Components, APIs, an entity per
 * platform item and a Template per type.
 */
export function expectedEntities(summary) {
  let platform = 0;
  for (const { plural, template } of PLATFORM_LISTS) platform += (summary.kinds?.[plural] ?? 0) * (template ? 2 : 1);
  return summary.namespaces + summary.projects + summary.components + summary.endpointsWithSchema + platform;
}
