/**
 * Recall-vs-QPS plots as standalone SVG, drawn the way ann-benchmarks draws them: recall@10 on a
 * linear x-axis, queries per second on a log y-axis ("up and to the right is better"), one line
 * per index configuration through its Pareto frontier, every measured point as a faint dot.
 * Hand-written (≈150 lines) rather than a plotting dependency: the output is a static file with
 * no fonts or scripts to load.
 */
import { paretoFrontier, type FrontierPoint } from '../pareto.js';

/** One line of the plot. */
export interface PlotSeries {
  label: string;
  points: FrontierPoint<string>[];
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const MARKERS = ['circle', 'square', 'triangle', 'diamond'] as const;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmtTick(v: number): string {
  if (v >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`;
  if (v >= 1e3) return `${+(v / 1e3).toPrecision(3)}k`;
  return `${+v.toPrecision(3)}`;
}

function marker(kind: (typeof MARKERS)[number], x: number, y: number, color: string, r = 3.5): string {
  switch (kind) {
    case 'circle':
      return `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r}" fill="${color}"/>`;
    case 'square':
      return `<rect x="${(x - r).toFixed(1)}" y="${(y - r).toFixed(1)}" width="${2 * r}" height="${2 * r}" fill="${color}"/>`;
    case 'triangle':
      return `<path d="M${x.toFixed(1)} ${(y - r - 0.5).toFixed(1)}L${(x + r).toFixed(1)} ${(y + r).toFixed(1)}L${(x - r).toFixed(1)} ${(y + r).toFixed(1)}Z" fill="${color}"/>`;
    case 'diamond':
      return `<path d="M${x.toFixed(1)} ${(y - r - 1).toFixed(1)}L${(x + r + 1).toFixed(1)} ${y.toFixed(1)}L${x.toFixed(1)} ${(y + r + 1).toFixed(1)}L${(x - r - 1).toFixed(1)} ${y.toFixed(1)}Z" fill="${color}"/>`;
  }
}

/** Renders the plot; returns the SVG document. */
export function recallQpsSvg(title: string, series: readonly PlotSeries[], options: { subtitle?: string; width?: number; height?: number } = {}): string {
  const W = options.width ?? 860;
  const H = options.height ?? 520;
  const m = { left: 70, right: 230, top: 56, bottom: 56 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const all = series.flatMap((s) => s.points).filter((p) => p.qps > 0 && Number.isFinite(p.qps) && Number.isFinite(p.recall));
  const minRecall = all.length ? Math.min(...all.map((p) => p.recall)) : 0;
  // Like ann-benchmarks, linear recall; the range starts at the tenth below the lowest point.
  const x0 = Math.max(0, Math.min(0.9, Math.floor(minRecall * 10) / 10));
  const x1 = 1;
  const qs = all.map((p) => p.qps);
  const y0 = Math.pow(10, Math.floor(Math.log10(qs.length ? Math.min(...qs) : 1)));
  const y1 = Math.pow(10, Math.ceil(Math.log10(qs.length ? Math.max(...qs) : 10)));
  const ly0 = Math.log10(y0);
  const ly1 = Math.max(ly0 + 1, Math.log10(y1));
  const sx = (r: number): number => m.left + ((r - x0) / (x1 - x0)) * pw;
  const sy = (q: number): number => m.top + ph - ((Math.log10(q) - ly0) / (ly1 - ly0)) * ph;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`);
  parts.push(`<rect width="${W}" height="${H}" fill="#fff"/>`);
  parts.push(`<text x="${m.left}" y="22" font-size="15" font-weight="bold">${esc(title)}</text>`);
  if (options.subtitle) parts.push(`<text x="${m.left}" y="40" fill="#555">${esc(options.subtitle)}</text>`);
  // Grid and ticks.
  for (let e = Math.round(ly0); e <= Math.round(ly1); e++) {
    for (const mult of [1, 2, 5]) {
      const v = mult * Math.pow(10, e);
      const lv = Math.log10(v);
      if (lv < ly0 - 1e-9 || lv > ly1 + 1e-9) continue;
      const y = sy(v);
      parts.push(`<line x1="${m.left}" x2="${m.left + pw}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="${mult === 1 ? '#ccc' : '#eee'}"/>`);
      parts.push(`<text x="${m.left - 6}" y="${(y + 4).toFixed(1)}" text-anchor="end" fill="#333">${fmtTick(v)}</text>`);
    }
  }
  const step = x1 - x0 > 0.3 ? 0.1 : 0.05;
  for (let r = x0; r <= x1 + 1e-9; r += step) {
    const x = sx(r);
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${m.top}" y2="${m.top + ph}" stroke="#eee"/>`);
    parts.push(`<text x="${x.toFixed(1)}" y="${m.top + ph + 18}" text-anchor="middle" fill="#333">${r.toFixed(2)}</text>`);
  }
  parts.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333"/>`);
  parts.push(`<text x="${m.left + pw / 2}" y="${H - 14}" text-anchor="middle">Recall@10</text>`);
  parts.push(`<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">Queries per second (1/s, log scale)</text>`);
  // Series.
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    const mk = MARKERS[Math.floor(i / PALETTE.length) % MARKERS.length]!;
    const pts = s.points.filter((p) => p.qps > 0 && p.recall >= x0);
    for (const p of pts) parts.push(`<circle cx="${sx(p.recall).toFixed(1)}" cy="${sy(p.qps).toFixed(1)}" r="2" fill="${color}" fill-opacity="0.35"/>`);
    const front = paretoFrontier(pts);
    if (front.length > 1) {
      const d = front.map((p, j) => `${j ? 'L' : 'M'}${sx(p.recall).toFixed(1)} ${sy(p.qps).toFixed(1)}`).join('');
      parts.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"/>`);
    }
    for (const p of front) parts.push(`<g><title>${esc(`${s.label} ${p.data}: recall ${p.recall.toFixed(4)}, ${p.qps.toFixed(0)} QPS`)}</title>${marker(mk, sx(p.recall), sy(p.qps), color)}</g>`);
    const ly = m.top + 8 + i * 20;
    parts.push(`<line x1="${m.left + pw + 16}" x2="${m.left + pw + 40}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"/>`);
    parts.push(marker(mk, m.left + pw + 28, ly, color));
    parts.push(`<text x="${m.left + pw + 46}" y="${ly + 4}">${esc(s.label)}</text>`);
  });
  if (all.length === 0) parts.push(`<text x="${m.left + pw / 2}" y="${m.top + ph / 2}" text-anchor="middle" fill="#999">no data</text>`);
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
