// The OpenChoreo stand-in (target/release/mock-openchoreo) for the benchmark.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

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
    summary: () => admin('/admin/summary'),
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

/** Fewest list calls for a full walk at page size `limit` (the stand-in's min_list_calls). */
export function minListCalls(summary, limit) {
  const pages = n => Math.max(1, Math.ceil(n / limit));
  let total = pages(summary.namespaces);
  for (const c of Object.values(summary.byNamespace)) {
    total += pages(c.projects) + pages(c.components) + pages(c.workloads);
  }
  return total;
}

/** Entities a complete cycle produces: Domains, Systems, Components, APIs. */
export function expectedEntities(summary) {
  return summary.namespaces + summary.projects + summary.components + summary.endpointsWithSchema;
}
