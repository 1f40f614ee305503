// The machine a benchmark ran on, for its report.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export function machineInfo() {
  return {
    date: new Date().toISOString(),
    nproc: os.availableParallelism?.() ?? os.cpus().length,
    cpuModel: (() => {
      try {
        return readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1];
      } catch {
        return os.cpus()[0]?.model;
      }
    })(),
    node: process.version,
    loadAvgAtStart: os.loadavg(),
  };
}
