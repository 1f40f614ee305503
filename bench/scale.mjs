#!/usr/bin/env node
// `npm run bench:scale`: this module alone (SQLite and PostgreSQL state) at 100k and
// 1,000,000 components of the same shape (10 namespaces x 100 projects x 100 or 1,000
// components), into the counting connection: wall time, entities/s, requests against the
// minimum, peak RSS, and the state database's size per entity after the cycle. Writes
// bench/results/scale.md and scale.json. Every variable of bench/run.mjs still applies.
process.env.BENCH_SIZES ??= '100k-wide,1m';
process.env.BENCH_CONTENDERS ??= 'addon-sqlite,addon-pg';
process.env.BENCH_OUTPUT ??= 'scale';
process.env.BENCH_RUN_CAP_SECONDS ??= '900';
process.env.BENCH_BUDGET_SECONDS ??= '3600';
await import('./run.mjs');
