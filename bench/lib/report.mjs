// Tables (markdown) and the RSS-over-time chart (hand-written SVG).

const MiB = 1024 * 1024;
export const mib = b => (b === undefined || b === null ? undefined : b / MiB);
const fmt = (v, digits = 1) => (v === undefined || v === null || Number.isNaN(v) ? '–' : v.toFixed(digits));
const int = v => (v === undefined || v === null ? '–' : Math.round(v).toLocaleString('en-US'));
const ratio = v => (v === undefined || v === null || !Number.isFinite(v) ? '–' : `${v.toFixed(2)}x`);

export function resultsTable(runs) {
  const head =
    '| contender | components | wall s | entities | entities/s | vs floor | vs Backstage engine | API requests (min) | CPU s (user+sys) | peak RSS MiB | RSS at start MiB | stand-in CPU s |\n' +
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|';
  const rows = runs.map(r => {
    const status = r.status === 'ok' ? '' : ` **${r.status.toUpperCase()}**${r.note ? ` (${r.note})` : ''}`;
    const wall = r.status === 'timeout' ? `> ${fmt(r.wallMs / 1000)}` : fmt(r.wallMs / 1000, 2);
    const entities = r.status === 'ok' ? int(r.entities ?? r.added) : `${int(r.added)} of ${int(r.expected)}`;
    const rate = r.status === 'timeout' ? `< ${int(r.entitiesPerSecond)}` : int(r.entitiesPerSecond);
    const bound = r.rateIsUpperBound ? '< ' : '';
    const lower = r.vsBackstageLowerBound ? '> ' : '';
    return `| ${r.label}${status} | ${int(r.components)} | ${wall} | ${entities} | ${rate} | ${r.vsFloor !== undefined ? bound : ''}${ratio(r.vsFloor)} | ${r.vsBackstage !== undefined && !r.name.startsWith('backstage-') ? (bound || lower) : ''}${ratio(r.vsBackstage)} | ${int(r.requests)} (${int(r.minRequests)}) | ${fmt(r.cpuS, 2)} | ${fmt(mib(r.peakRss))} | ${fmt(mib(r.rssBefore))} | ${fmt(r.mockCpuS, 2)} |`;
  });
  return [head, ...rows].join('\n');
}

export function growthTable(growth) {
  const head = '| contender | peak RSS 10k MiB | peak RSS 100k MiB | growth MiB |\n|---|---:|---:|---:|';
  const rows = growth.map(
    g => `| ${g.label} | ${fmt(mib(g.small))} | ${fmt(mib(g.large))}${g.largeStatus !== 'ok' ? ` (${g.largeStatus})` : ''} | ${fmt(mib(g.growth))} |`,
  );
  return [head, ...rows].join('\n');
}

export function targetsTable(targets) {
  const head = '| target | measured | result |\n|---|---|---|';
  const rows = targets.map(t => `| ${t.name} | ${t.measured} | ${t.pass === undefined ? 'n/a' : t.pass ? 'PASS' : '**MISS**'} |`);
  return [head, ...rows].join('\n');
}

const COLORS = {
  floor: '#7f7f7f',
  'addon-sqlite': '#1f77b4',
  'addon-pg': '#17becf',
  'backstage-sqlite': '#d62728',
  'backstage-pg': '#ff7f0e',
  legacy: '#9467bd',
};
const esc = s => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;');

function niceStep(max, ticks) {
  const raw = max / ticks;
  const p = 10 ** Math.floor(Math.log10(raw || 1));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

/** One panel per size: RSS (MiB) over seconds since the cycle started, a line per contender. */
export function memorySvg(panels, title) {
  const W = 560;
  const H = 380;
  const pad = { l: 58, r: 16, t: 40, b: 46 };
  const legendH = 22 * Math.ceil(Object.keys(COLORS).length / 3) + 10;
  const width = W * panels.length;
  const height = H + legendH + 30;
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(title)}</text>`,
  ];
  panels.forEach((panel, i) => {
    const x0 = i * W + pad.l;
    const y0 = 30 + pad.t;
    const pw = W - pad.l - pad.r;
    const ph = H - pad.t - pad.b;
    const series = panel.series.filter(s => s.samples.length > 0);
    const maxT = Math.max(1, ...series.flatMap(s => s.samples.map(([t]) => t / 1000)));
    const maxY = Math.max(1, ...series.flatMap(s => s.samples.map(([, b]) => b / MiB)));
    const xStep = niceStep(maxT, 6);
    const yStep = niceStep(maxY, 6);
    const xMax = Math.ceil(maxT / xStep) * xStep;
    const yMax = Math.ceil(maxY / yStep) * yStep;
    const sx = t => x0 + (t / xMax) * pw;
    const sy = v => y0 + ph - (v / yMax) * ph;
    out.push(`<text x="${x0 + pw / 2}" y="${y0 - 12}" text-anchor="middle" font-size="13" font-weight="bold">${esc(panel.title)}</text>`);
    for (let v = 0; v <= yMax + 1e-9; v += yStep) {
      out.push(`<line x1="${x0}" y1="${sy(v).toFixed(1)}" x2="${x0 + pw}" y2="${sy(v).toFixed(1)}" stroke="#e5e5e5"/>`);
      out.push(`<text x="${x0 - 6}" y="${(sy(v) + 4).toFixed(1)}" text-anchor="end">${+v.toFixed(1)}</text>`);
    }
    for (let t = 0; t <= xMax + 1e-9; t += xStep) {
      out.push(`<line x1="${sx(t).toFixed(1)}" y1="${y0}" x2="${sx(t).toFixed(1)}" y2="${y0 + ph}" stroke="#f0f0f0"/>`);
      out.push(`<text x="${sx(t).toFixed(1)}" y="${y0 + ph + 16}" text-anchor="middle">${+t.toFixed(1)}</text>`);
    }
    out.push(`<rect x="${x0}" y="${y0}" width="${pw}" height="${ph}" fill="none" stroke="#444"/>`);
    out.push(`<text x="${x0 + pw / 2}" y="${y0 + ph + 34}" text-anchor="middle">seconds since the cycle started</text>`);
    out.push(`<text transform="translate(${x0 - 44},${y0 + ph / 2}) rotate(-90)" text-anchor="middle">RSS (MiB)</text>`);
    for (const s of series) {
      const pts = s.samples.map(([t, b]) => `${sx(t / 1000).toFixed(1)},${sy(b / MiB).toFixed(1)}`).join(' ');
      const color = COLORS[s.name] ?? '#000';
      out.push(`<polyline fill="none" stroke="${color}" stroke-width="1.6" points="${pts}"/>`);
      if (s.timedOut) {
        const [t, b] = s.samples[s.samples.length - 1];
        out.push(`<text x="${(sx(t / 1000) - 4).toFixed(1)}" y="${(sy(b / MiB) - 5).toFixed(1)}" text-anchor="end" fill="${color}">timeout</text>`);
      }
    }
  });
  const ly = 30 + H + 6;
  Object.entries(COLORS).forEach(([name, color], i) => {
    const x = 60 + (i % 3) * 260;
    const y = ly + Math.floor(i / 3) * 22;
    out.push(`<line x1="${x}" y1="${y}" x2="${x + 26}" y2="${y}" stroke="${color}" stroke-width="3"/>`);
    out.push(`<text x="${x + 32}" y="${y + 4}">${esc(name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n');
}
