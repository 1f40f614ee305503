// Which versions of each package an app resolves, and which packages pull each one in,
// from `yarn why <package> --json` (Yarn 4: one JSON object per line,
// `{"value": "<dependent locator>", "children": {"<name>@npm:<version>": {...}}}`).

/** Parses one `yarn why --json` output into `{ version: [dependents] }`. */
export function parseWhy(pkg, stdout) {
  const out = {};
  for (const line of stdout.split('\n')) {
    if (!line.trim().startsWith('{')) continue;
    const { value, children } = JSON.parse(line);
    for (const [key, child] of Object.entries(children ?? {})) {
      const locator = child?.locator ?? key;
      if (!locator.startsWith(`${pkg}@`)) continue;
      // `@scope/name@npm:1.2.3`, `@scope/name@virtual:<hash>#npm:1.2.3` (peer-dependent
      // instances of one version), or a patched locator holding `npm%3A1.2.3`.
      const version = /[@#]npm:([^\s#:]+)/.exec(locator)?.[1] ?? /npm%3A([^\s#&:]+)/.exec(locator)?.[1] ?? locator.slice(pkg.length + 1);
      (out[version] ??= []).push(value.replace(/@(workspace|npm|virtual|file|patch):.*$/, ''));
    }
  }
  for (const v of Object.keys(out)) out[v] = [...new Set(out[v])].sort();
  return out;
}

/**
 * `{ package: { version: [dependents] } }` for each package; `why(pkg)` runs
 * `yarn why pkg --json` in the app and returns the spawnSync result.
 */
export function coreVersions(packages, why) {
  const result = {};
  for (const pkg of packages) {
    const r = why(pkg);
    if (r.status !== 0) throw new Error(`yarn why ${pkg} failed: ${r.stderr || r.stdout}`);
    result[pkg] = parseWhy(pkg, r.stdout);
  }
  return result;
}
