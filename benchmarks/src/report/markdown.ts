/** The run report as Markdown: headline, targets, per-dataset tables. */
import { bestQpsAtRecall, paretoFrontier } from '../pareto.js';
import type { ConfigResult, DatasetResult, PointResult, RunReport } from '../results.js';
import { singlePoints } from '../targets.js';

const MiB = 2 ** 20;
const GiB = 2 ** 30;

function f(v: number | undefined, digits = 3): string {
  return v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(digits);
}
function qps(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  return v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toPrecision(3);
}
function secs(ms: number | undefined): string {
  if (ms === undefined) return '–';
  return ms >= 10_000 ? `${(ms / 1000).toFixed(0)} s` : `${(ms / 1000).toFixed(2)} s`;
}
function bytes(b: number | undefined): string {
  if (b === undefined || !Number.isFinite(b)) return '–';
  return Math.abs(b) >= GiB ? `${(b / GiB).toFixed(2)} GiB` : `${(b / MiB).toFixed(0)} MiB`;
}
function table(head: string[], rows: string[][]): string {
  const line = (cells: string[]): string => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map(() => '---')), ...rows.map(line)].join('\n');
}

/** Queries with 0 of the exact top-10, and with at most 5 (strict), from a histogram. */
function failedQueries(hist: number[] | undefined): string {
  if (!hist) return '–';
  const le5 = hist.slice(0, 6).reduce((a, b) => a + b, 0);
  return `${hist[0] ?? 0} · ${le5}`;
}

function ratioText(o: { ratio: number; ratioSpread?: { min: number; max: number; n: number } }): string {
  const s = o.ratioSpread;
  return s && s.n > 1 ? `×${o.ratio.toFixed(3)} [${s.min.toFixed(2)}–${s.max.toFixed(2)}, n=${s.n}]` : `×${o.ratio.toFixed(3)}`;
}

function defaultPoint(c: ConfigResult): PointResult | undefined {
  return c.points.find((p) => p.label === 'default');
}

function paramsText(c: ConfigResult): string {
  const p = c.build?.params ?? c.config.build;
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');
}

/** One row per configuration: defaults, best points at recall ≥ 0.95 / 0.99, cost. */
export function headlineTable(ds: DatasetResult): string {
  const rows = ds.configs.map((c) => {
    const d = defaultPoint(c);
    const pts = singlePoints(c);
    const at95 = bestQpsAtRecall(pts, 0.95);
    const at99 = bestQpsAtRecall(pts, 0.99);
    const ov = (['single', 'batch'] as const).map((m) => c.overhead.find((o) => o.mode === m)).filter((o) => o !== undefined).map((o) => `×${o.ratio.toFixed(2)}`);
    return [
      c.config.label,
      paramsText(c),
      `${f(d?.single?.strict10 ?? d?.single?.recall10)} / ${f(d?.single?.recall10)}`,
      failedQueries(d?.single?.hist10),
      qps(d?.single?.qps),
      qps(d?.batch?.qps),
      at95 ? `${qps(at95.qps)} (${at95.data}, ${f(at95.recall)})` : '–',
      at99 ? `${qps(at99.qps)} (${at99.data}, ${f(at99.recall)})` : '–',
      secs(c.build?.buildMs),
      bytes(c.single?.indexMemoryBytes),
      bytes(c.build?.diskBytes),
      secs(c.single?.loadMs),
      ov.length ? ov.join(' / ') : '–',
      c.failures.length ? `FAILED: ${c.failures.map((x) => x.job).join(', ')}` : '',
    ];
  });
  return table(
    [
      'configuration',
      'params in effect',
      'recall@10 default (strict / ann-b)',
      'queries 0/10 · ≤5/10 (default)',
      'QPS default (1 thread)',
      'QPS default (batch)',
      'best QPS @ recall ≥ 0.95',
      'best QPS @ recall ≥ 0.99',
      'build',
      'index RAM',
      'on disk',
      'load',
      'overhead single / batch',
      '',
    ],
    rows,
  );
}

/** Every sweep point. */
export function sweepTable(ds: DatasetResult): string {
  const rows: string[][] = [];
  for (const c of ds.configs) {
    for (const p of c.points) {
      const s = p.single;
      const b = p.batch;
      rows.push([
        c.config.label,
        p.label,
        f(s?.strict1 ?? s?.recall1 ?? b?.recall1),
        f(s?.strict10 ?? b?.strict10),
        f(s?.recall10),
        failedQueries(s?.hist10 ?? b?.hist10),
        f(b?.recall100),
        qps(s?.qps),
        s ? `${f(s.latencyMs.p50)} / ${f(s.latencyMs.p95)} / ${f(s.latencyMs.p99)}` : '–',
        qps(b?.qps),
        f(b?.strict10 ?? b?.recall10),
        s && s.queries < ds.info.nq ? `${s.queries} queries timed (recall over all ${s.recallQueries ?? s.queries})` : '',
      ]);
    }
  }
  return table(
    ['configuration', 'point', 'recall@1 (strict)', 'recall@10 (strict)', 'recall@10 (ann-b)', 'queries 0/10 · ≤5/10', 'recall@100 (ann-b)', 'QPS (1 thread)', 'latency p50 / p95 / p99 ms', 'QPS (batch)', 'recall@10 strict (batch)', ''],
    rows,
  );
}

/** Pareto frontier per backend (configurations of one backend pooled). */
export function frontierTable(ds: DatasetResult): string {
  const rows: string[][] = [];
  const backends = [...new Set(ds.configs.map((c) => c.config.backend))];
  for (const backend of backends) {
    const pts = ds.configs
      .filter((c) => c.config.backend === backend)
      .flatMap((c) => singlePoints(c).map((p) => ({ ...p, data: `${c.config.label} ${p.data}` })));
    for (const p of paretoFrontier(pts).reverse()) rows.push([backend, p.data, f(p.recall, 4), qps(p.qps)]);
  }
  return table(['backend', 'point', 'recall@10 (strict)', 'QPS (1 thread)'], rows);
}

/** HNSW self-search connectivity per configuration. */
export function connectivityTable(ds: DatasetResult): string {
  const rows = ds.configs
    .filter((c) => c.build?.connectivity)
    .map((c) => {
      const k = c.build!.connectivity!;
      return [c.config.label, Object.entries(k.params).map(([a, b]) => `${a}=${b}`).join(' '), k.sampled.toLocaleString('en-US'), String(k.notFound), String(k.notFirst)];
    });
  return rows.length ? table(['configuration', 'search', 'base vectors searched for themselves', 'not in their own top 10 (unreachable)', 'not their own top 1'], rows) : '';
}

/** Build cost split (bare library) next to the adapter's build. */
export function buildTable(ds: DatasetResult): string {
  const rows = ds.configs.map((c) => {
    const bb = c.bareBuild;
    return [
      c.config.label,
      secs(c.build?.buildMs),
      bb ? secs(bb.totalMs) : '–',
      bb ? secs(bb.times.convertMs) : '–',
      bb ? secs(bb.times.trainMs) : '–',
      bb ? secs(bb.times.addMs) : '–',
      bytes(c.build?.peakRssBytes),
      bytes(c.single?.peakRssBytes),
      bytes(c.single?.indexMemoryAfterSearchBytes),
      secs(c.build?.saveMs),
    ];
  });
  return table(
    ['configuration', 'adapter build', 'bare build', 'bare: Float32Array → number[]', 'bare: train', 'bare: add', 'peak RSS (build job)', 'peak RSS (search job)', 'index RAM after sweep', 'save'],
    rows,
  );
}

/** Adapter vs bare library. */
export function overheadTable(ds: DatasetResult): string {
  const rows: string[][] = [];
  for (const c of ds.configs) {
    for (const o of c.overhead) {
      rows.push([
        c.config.label,
        o.mode,
        o.point,
        o.mode === 'build' ? secs(o.adapterMs) : `${f(o.adapterMs, 4)} ms`,
        o.mode === 'build' ? secs(o.bareMs) : `${f(o.bareMs, 4)} ms`,
        ratioText(o),
        o.ratio <= 1.1 ? 'pass' : 'FAIL',
        o.adapterRecall10 === undefined ? '' : `${f(o.adapterRecall10)} / ${f(o.bareRecall10)}`,
      ]);
    }
  }
  return table(['configuration', 'mode', 'point', 'adapter (median per query / build)', 'bare library', 'ratio: median [min–max, reps]', '≤ 1.10', 'recall@10 adapter / bare'], rows);
}

/** End-to-end text query through the engine. */
export function engineSection(report: RunReport): string {
  const e = report.engine;
  if (!e) return '';
  const out: string[] = ['## End-to-end text query through the engine', ''];
  const first = e.results[0];
  if (first) {
    out.push(
      `Text query → results with \`SearchEngine.search\` (\`@pixsearch/core/engine\`), the generated full-size ViT-B/32 bundle (${first.model}, seeded random weights, text tower quantized uint8 as the engine loads it by default; ${bytes(first.bundleBytes)} on disk) over a library of ${first.images.toLocaleString('en-US')} images whose stored embeddings are the synthetic CLIP-like vectors; k = ${first.k}, ${first.queries} distinct queries, one at a time; ONNX Runtime threads: ${first.threads}. Tokenize is the bundle's tokenizer timed on the same text; text tower = the engine's embed time − tokenize.`,
    );
    out.push('');
    const ms = (v: number): string => (v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
    const pp = (l: { p50: number; p99: number }): string => `${ms(l.p50)} / ${ms(l.p99)}`;
    out.push(
      table(
        ['backend', 'tokenize p50 / p99 ms', 'text tower', 'vector search', 'catalog lookup', 'total', 'engine open (index from catalog)', 'first query', 'CPU · load before → after'],
        e.results.map((r) => [
          r.backend,
          pp(r.stages.tokenize),
          pp(r.stages.textTower),
          pp(r.stages.search),
          pp(r.stages.catalog),
          `**${pp(r.stages.total)}**`,
          secs(r.openMs),
          secs(r.firstQueryMs),
          r.loadAverage ? `${r.cpu ?? '?'} · ${r.loadAverage.join(' ')} → ${r.loadAverageEnd?.join(' ') ?? '?'}` : '–',
        ]),
      ),
    );
  }
  for (const f of e.failures) out.push(`- FAILED ${f.job}: ${f.message.replace(/\n/g, ' ⏎ ')}`);
  return out.join('\n');
}

/** The whole report. `plots` maps dataset name → SVG file names (relative). */
export function renderMarkdown(report: RunReport, plots: Record<string, string[]>): string {
  const m = report.machine;
  const out: string[] = [];
  out.push(`# pixsearch benchmark run ${report.runId}`);
  out.push('');
  out.push(`- **Command:** \`${report.command}\``);
  out.push(`- **Date:** ${report.date} (${report.durationS} s), mode \`${report.mode}\`, ${report.settings.queries} queries per dataset, best of ${report.settings.reps}, ≤ ${report.settings.budgetS} s per point`);
  out.push(`- **Machine:** ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}, Node ${m.node}; CPU flags ${m.cpuFlags.join(' ')}; load average at start ${m.loadAverage.join(' ')}`);
  out.push(`- **Libraries:** ${Object.entries(report.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  out.push(`- **FAISS build:** ${m.faissBuild}`);
  out.push('');
  out.push('Single-query mode: one query at a time, one thread (`OMP_NUM_THREADS=1`, USearch `threads: 1`), QPS = 1 / mean latency of the best repetition (ann-benchmarks). Batch mode: all queries in one call on all cores (big-ann-benchmarks; hnswlib-node has no batch call and runs single-threaded). Recall is computed over the full query set even where timing stopped early. **Strict** recall@k = the share of the exact top-k ids returned (targets and plots use it); **ann-b** recall@k counts returned neighbours whose true inner product is within 1e-3 of the true k-th best (ann-benchmarks), which credits near-ties and reads higher on tight data. "queries 0/10 · ≤5/10" counts queries that got none / at most half of their exact top-10. "index RAM" is the RSS growth from loading the saved index. Overhead = pixsearch adapter time / bare library time on the same data and parameters, interleaved in one process: the median of the per-repetition ratios, with their range.');
  out.push('');
  out.push('## Targets');
  out.push('');
  out.push(table(['target', 'result', 'detail'], report.targets.map((t) => [t.name, t.status === 'pass' ? 'pass' : t.status === 'fail' ? '**FAIL**' : 'not measured', t.detail])));
  if (report.notes.length) {
    out.push('');
    out.push('## Notes');
    out.push('');
    for (const n of report.notes) out.push(`- ${n}`);
  }
  if (report.engine) {
    out.push('');
    out.push(engineSection(report));
  }
  for (const ds of report.datasets) {
    out.push('');
    out.push(`## ${ds.info.name}`);
    out.push('');
    out.push(`${ds.info.n.toLocaleString('en-US')} base × ${ds.info.dimension}-d, ${ds.info.nq.toLocaleString('en-US')} queries; ${ds.info.source}. Ground truth (faiss IndexFlatIP, k=100): ${ds.groundTruthMs ? secs(ds.groundTruthMs) : 'cached'}.`);
    if (ds.startedAt) {
      const st = ds.settings ? `, best of ${ds.settings.reps}, ≤ ${ds.settings.budgetS} s per point` : '';
      out.push(`Measured from ${ds.startedAt} on ${ds.cpu ?? m.cpu} (load average ${ds.loadAverage?.join(' ') ?? '?'} at start${ds.loadAverageEnd ? `, ${ds.loadAverageEnd.join(' ')} at end` : ''}${st})${ds.command && ds.command !== report.command ? ` by \`${ds.command}\`` : ''}.`);
    }
    out.push('');
    for (const p of plots[ds.info.name] ?? []) out.push(`![recall vs QPS](${p})`);
    out.push('');
    out.push('### Headline');
    out.push('');
    out.push(headlineTable(ds));
    out.push('');
    out.push('### Pareto frontier (strict recall@10 vs single-query QPS)');
    out.push('');
    out.push(frontierTable(ds));
    out.push('');
    const conn = connectivityTable(ds);
    if (conn) {
      out.push('### HNSW connectivity');
      out.push('');
      out.push(conn);
      out.push('');
    }
    out.push('### Build and memory');
    out.push('');
    out.push(buildTable(ds));
    if (ds.configs.some((c) => c.overhead.length)) {
      out.push('');
      out.push('### Adapter overhead');
      out.push('');
      out.push(overheadTable(ds));
    }
    out.push('');
    out.push('### All sweep points');
    out.push('');
    out.push(sweepTable(ds));
    const failures = ds.configs.flatMap((c) => c.failures.map((x) => `${c.config.label}: ${x.job} exited ${x.exitCode ?? ''}${x.signal ? ` (${x.signal})` : ''}: ${x.message.replace(/\n/g, ' ⏎ ')}`));
    if (failures.length) {
      out.push('');
      out.push('### Failures');
      out.push('');
      for (const x of failures) out.push(`- ${x}`);
    }
  }
  out.push('');
  return out.join('\n');
}
