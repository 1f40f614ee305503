// One contender in its own Node process (forked by run.mjs with an IPC channel), so that
// its CPU time and RSS are its own. Protocol (process.send):
//   {type: 'ready'}                               set-up done, cycle starting
//   {type: 'progress', samples, added}            every second: new RSS samples [ms, bytes]
//   {type: 'result', ...}                         the cycle is complete
//   {type: 'error', message}
// RSS is sampled every 100 ms with process.memoryUsage.rss(); the exact peak of the cycle
// is the kernel's VmHWM, reset (/proc/self/clear_refs = 5) when the cycle starts.
import { readFileSync, writeFileSync } from 'node:fs';
import { CountingConnection } from './lib/counting.mjs';

const options = JSON.parse(process.argv[2]);
const contenders = {
  floor: () => import('./contenders/floor.mjs'),
  addon: () => import('./contenders/addon.mjs'),
  backstage: () => import('./contenders/backstage.mjs'),
  legacy: () => import('./contenders/legacy.mjs'),
};

const send = msg => new Promise(resolve => (process.send ? process.send(msg, () => resolve()) : resolve()));

function vmHwmBytes() {
  try {
    const m = readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+) kB/);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}
function resetHwm() {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

async function main() {
  const mod = await contenders[options.kind]();
  const connection = new CountingConnection({ keep: Boolean(options.keepEntities) });
  // Set-up (backend start, migrations, engine open) is not part of the cycle.
  const contender = await mod.setup(options, connection);

  let samples = [];
  let t0 = 0;
  const sample = () => samples.push([Math.round(performance.now() - t0), process.memoryUsage.rss()]);
  const flush = () => {
    if (samples.length === 0) return;
    const batch = samples;
    samples = [];
    send({ type: 'progress', samples: batch, added: connection.added });
  };

  const rssBefore = process.memoryUsage.rss();
  const hwmReset = resetHwm();
  await send({ type: 'ready', rssBefore });
  const cpu0 = process.cpuUsage();
  t0 = performance.now();
  sample();
  const sampler = setInterval(sample, 100);
  const flusher = setInterval(flush, 1000);
  let info;
  try {
    info = await contender.cycle();
  } finally {
    clearInterval(sampler);
    clearInterval(flusher);
  }
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  sample();
  const hwm = hwmReset ? vmHwmBytes() : undefined;
  flush();
  const result = {
    type: 'result',
    wallMs,
    cpuUserS: cpu.user / 1e6,
    cpuSysS: cpu.system / 1e6,
    added: connection.added,
    removed: connection.removed,
    mutations: connection.mutations,
    fullMutations: connection.fullMutations,
    rssBefore,
    peakRssHwm: hwm,
    info: info ?? {},
  };
  if (options.keepEntities) result.entities = connection.kept;
  await send(result);
  try {
    await contender.teardown?.();
  } catch (e) {
    process.stderr.write(`teardown: ${e?.stack ?? e}\n`);
  }
}

main().then(
  () => process.exit(0),
  async e => {
    await send({ type: 'error', message: String(e?.stack ?? e) });
    process.exit(1);
  },
);
