import { describe, expect, it } from 'vitest';
import type { BenchConfig } from '../src/backends/types.js';
import { parseCli } from '../src/cli.js';
import { ivfNlist, planConfigs } from '../src/plan.js';
import { renderMarkdown } from '../src/report/markdown.js';
import { recallQpsSvg } from '../src/report/svg.js';
import type { ConfigResult, PointResult, RunReport } from '../src/results.js';
import type { SuiteOptions } from '../src/runner.js';
import { evaluateTargets } from '../src/targets.js';

const lat = { p50: 1, p95: 2, p99: 3, mean: 1.2 };
const pt = (label: string, recall10: number, qps: number): PointResult => ({
  label,
  params: {},
  single: { queries: 1000, reps: 3, qps, latencyMs: lat, recall1: recall10, recall10 },
  batch: { queries: 1000, reps: 3, qps: qps * 2, recall1: recall10, recall10, recall100: recall10, qps100: qps },
});
const cfg = (id: string, backend: BenchConfig['backend'], build: BenchConfig['build'] = {}): BenchConfig => ({
  id,
  backend,
  label: id,
  build,
  sweep: [],
  overheadPoint: { label: 'default', params: {} },
});
const result = (config: BenchConfig, points: PointResult[], ratio = 1.02, peakGiB = 3): ConfigResult => ({
  config,
  points,
  failures: [],
  overhead: [
    { mode: 'single', point: 'default', adapterMs: 1.02, bareMs: 1, ratio },
    { mode: 'build', point: 'build', adapterMs: 1000, bareMs: 990, ratio: 1000 / 990 },
  ],
  build: { buildMs: 1000, buildRssDeltaBytes: 1, saveMs: 10, diskBytes: 2e8, params: {}, library: 'x', batch: [], overhead: [], peakRssBytes: peakGiB * 2 ** 30 },
  single: { loadMs: 50, indexMemoryBytes: 2.1e8, indexMemoryAfterSearchBytes: 2.2e8, single: [], overhead: [], peakRssBytes: peakGiB * 2 ** 30 },
});

function report(): RunReport {
  const info = (n: number) => ({ name: `synthetic-${n}`, n, nq: 1000, dimension: 512, metric: 'cosine' as const, source: 'test' });
  const ds100k = {
    info: info(100_000),
    groundTruthMs: 1234,
    configs: [
      result(cfg('faiss-flat', 'faiss-flat'), [pt('default', 1, 30)]),
      result(cfg('faiss-ivf', 'faiss-ivf'), [pt('nprobe=1', 0.6, 3000), pt('nprobe=16', 0.96, 400), pt('nprobe=64', 0.995, 120)]),
      result(cfg('hnswlib-M16', 'hnswlib'), [pt('ef=10', 0.9, 5000), pt('ef=40', 0.985, 2500)], 1.25),
      result(cfg('usearch-f32', 'usearch', { quantization: 'f32' }), [pt('exp=10', 0.97, 6000), pt('exp=80', 0.995, 2000)]),
    ],
  };
  const ds1m = { info: info(1_000_000), groundTruthMs: 0, configs: [{ ...result(cfg('hnswlib-M16', 'hnswlib'), [pt('ef=40', 0.95, 900)], 1, 30), overhead: [] }] };
  const r: RunReport = {
    schema: 1,
    runId: 'test-run',
    date: '2026-01-01T00:00:00Z',
    command: 'pnpm bench --full',
    mode: 'full',
    durationS: 1,
    machine: { hostname: 'h', cpu: 'cpu', cores: 2, memoryGiB: 24, os: 'linux', node: 'v20', cpuFlags: ['avx2'], faissBuild: 'generic', loadAverage: [0.1] },
    versions: { 'faiss-node': '0.5.1' },
    settings: { queries: 1000, reps: 3, budgetS: 20, overhead: true },
    datasets: [ds100k, ds1m],
    targets: [],
    notes: [],
  };
  r.targets = evaluateTargets(r);
  return r;
}

describe('targets', () => {
  const t = report().targets;
  const find = (s: string) => t.find((x) => x.name.includes(s))!;

  it('compares each ANN backend at recall ≥ 0.95 with 10× flat QPS', () => {
    expect(find('faiss-ivf strict recall@10 ≥ 0.95')).toMatchObject({ status: 'pass' });
    expect(find('faiss-ivf strict recall@10 ≥ 0.95').detail).toContain('13.3× flat');
    expect(find('hnswlib strict recall@10 ≥ 0.95').status).toBe('pass');
    expect(find('usearch f32 strict recall@10 ≥ 0.95').status).toBe('pass');
  });

  it('checks the 0.99 ceiling, the 1M memory budget and the overhead ratio', () => {
    expect(find('hnswlib reaches strict recall@10 ≥ 0.99').status).toBe('fail');
    expect(find('usearch reaches strict recall@10 ≥ 0.99').status).toBe('pass');
    expect(find('1M: hnswlib').status).toBe('fail'); // 30 GiB peak > 24 GB
    expect(find('1M: usearch').status).toBe('not measured');
    expect(find('hnswlib-M16 adapter search overhead').status).toBe('fail');
    expect(find('usearch-f32 adapter search overhead').status).toBe('pass');
    expect(find('usearch-f32 adapter build overhead').status).toBe('pass');
  });

  it('judges recall targets on strict recall when the report has it', () => {
    const r = report();
    // usearch reaches 0.995 by ann-benchmarks' tolerance, but only 0.98 by id overlap.
    for (const p of r.datasets[0]!.configs[3]!.points) p.single = { ...p.single!, strict10: p.single!.recall10 - 0.015 };
    for (const p of r.datasets[0]!.configs[3]!.points) p.batch = { ...p.batch!, strict10: p.batch!.recall10 - 0.015 };
    const tt = evaluateTargets(r);
    expect(tt.find((x) => x.name.includes('usearch reaches strict recall@10 ≥ 0.99'))!.status).toBe('fail');
  });
});

describe('markdown report', () => {
  it('has the header, targets and one section per dataset with the tables', () => {
    const md = renderMarkdown(report(), { 'synthetic-100000': ['a.svg'] });
    expect(md).toContain('`pnpm bench --full`');
    expect(md).toContain('## Targets');
    expect(md).toContain('## synthetic-100000');
    expect(md).toContain('![recall vs QPS](a.svg)');
    expect(md).toContain('### Pareto frontier');
    // The dominated IVF point does not appear on the frontier; the three others do.
    const frontier = md.split('### Pareto frontier')[1]!.split('###')[0]!;
    expect(frontier).toContain('faiss-ivf nprobe=16');
    expect(frontier).toContain('faiss-ivf nprobe=1 ');
    expect(md).toContain('×1.250');
  });
});

describe('SVG plot', () => {
  it('draws one series per configuration on a log QPS axis', () => {
    const svg = recallQpsSvg('t', [
      { label: 'a<b', points: [{ recall: 0.9, qps: 100, data: 'x' }, { recall: 0.99, qps: 10, data: 'y' }] },
      { label: 'c', points: [{ recall: 0.95, qps: 1000, data: 'z' }] },
    ]);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('a&lt;b');
    expect(svg).toContain('log scale');
    // Ticks at powers of ten from 10 to 1000.
    for (const tick of ['>10<', '>100<', '>1k<']) expect(svg).toContain(tick);
    expect(svg.match(/<path d="M[^"]*" fill="none"/g)?.length).toBe(1);
    expect(recallQpsSvg('empty', [])).toContain('no data');
  });
});

describe('plan and flags', () => {
  it('sweeps nprobe 1 → nlist, efSearch/expansion 10 → 800, two M values below 1M', () => {
    expect(ivfNlist(10_000)).toBe(256);
    expect(ivfNlist(100_000)).toBe(1024);
    expect(ivfNlist(1_000_000)).toBe(4096);
    const full = planConfigs({ n: 100_000, mode: 'full' });
    const ivf = full.find((c) => c.backend === 'faiss-ivf')!;
    expect(ivf.sweep.at(1)!.params.nprobe).toBe(1);
    expect(ivf.sweep.at(-1)!.params.nprobe).toBe(1024);
    expect(full.filter((c) => c.backend === 'hnswlib').map((c) => c.build.M)).toEqual([16, 32]);
    expect(full.filter((c) => c.backend === 'usearch').map((c) => c.build.quantization)).toEqual(['f32', 'f16', 'i8']);
    const hnsw = full.find((c) => c.backend === 'hnswlib')!;
    expect(hnsw.sweep.map((p) => p.params.efSearch).filter(Boolean)).toEqual([10, 20, 40, 80, 120, 200, 400, 800]);
    // 1M is built with the same effort as 100k: M 16 and 32, efConstruction 200.
    const hnsw1m = planConfigs({ n: 1_000_000, mode: 'full' }).filter((c) => c.backend === 'hnswlib');
    expect(hnsw1m.map((c) => [c.build.M, c.build.efConstruction])).toEqual([
      [16, 200],
      [32, 200],
    ]);
    expect(planConfigs({ n: 10_000, mode: 'quick', backends: ['faiss-flat'] }).map((c) => c.id)).toEqual(['faiss-flat']);
  });

  it('parses flags and rejects bad ones', () => {
    const o = parseCli(['--full', '--sizes', '100k,1m', '--backends', 'hnswlib', '--no-overhead', '--out', '/tmp/x']) as SuiteOptions;
    expect(o).toMatchObject({ mode: 'full', sizes: [100_000, 1_000_000], backends: ['hnswlib'], overhead: 'off', reps: 3, queries: 1000, outDir: '/tmp/x' });
    expect((parseCli([]) as SuiteOptions).mode).toBe('quick');
    expect(parseCli(['--help'])).toBe('help');
    expect(() => parseCli(['--backends', 'annoy'])).toThrow(/unknown backend "annoy"/);
    expect(() => parseCli(['--quick', '--full'])).toThrow(/choose one/);
    expect(() => parseCli(['--reps', '0'])).toThrow(/positive integer/);
    expect(() => parseCli(['--bogus'])).toThrow();
    expect((parseCli(['--data', 'text,hard']) as SuiteOptions).variants).toEqual(['text', 'hard']);
    expect(() => parseCli(['--data', 'easy'])).toThrow(/unknown data set "easy"/);
  });
});
