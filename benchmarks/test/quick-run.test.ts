// The `--quick` 10k run, end to end through child processes, real libraries and the pixsearch
// adapters. It checks that the report is produced and the recall numbers are sane — never timings.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCli } from '../src/cli.js';
import type { RunReport } from '../src/results.js';
import { writeReport, type ReportFiles } from '../src/report/write.js';
import { runSuite, type SuiteOptions } from '../src/runner.js';

const out = mkdtempSync(path.join(os.tmpdir(), 'pixsearch-bench-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

let report: RunReport;
let files: ReportFiles;
const lines: string[] = [];

beforeAll(async () => {
  const opts = parseCli(['--quick', '--out', out]) as SuiteOptions;
  report = await runSuite({ ...opts, log: (l) => lines.push(l) });
  files = await writeReport(report, out);
}, 420_000);

describe('pnpm bench --quick', () => {
  it('writes report.json, report.md and recall-vs-QPS plots', () => {
    expect(existsSync(files.json)).toBe(true);
    expect(existsSync(files.markdown)).toBe(true);
    expect(files.plots.length).toBe(2 * report.datasets.length);
    const json = JSON.parse(readFileSync(files.json, 'utf8')) as RunReport;
    expect(json.mode).toBe('quick');
    expect(json.machine.cores).toBeGreaterThan(0);
    expect(json.versions['faiss-node']).toBe('0.5.1');
    expect(json.command).toContain('--quick');
    const md = readFileSync(files.markdown, 'utf8');
    expect(md).toContain('## Targets');
    expect(md).toContain('| faiss-flat |');
    for (const p of files.plots) {
      const svg = readFileSync(p, 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg).toContain('log scale');
      expect(svg).toContain('hnswlib');
    }
  });

  it('measures the standard set and text-like queries across the modality gap, each with its CPU and load', () => {
    expect(report.datasets.map((d) => d.info.dataVariant)).toEqual(['standard', 'text']);
    for (const d of report.datasets) {
      expect(d.cpu).toBeTruthy();
      expect(d.loadAverage?.length).toBe(3);
      expect(d.loadAverageEnd?.length).toBe(3);
    }
    // Overhead does not depend on the queries: measured on the standard set only.
    expect(report.datasets[1]!.configs.every((c) => c.overhead.length === 0)).toBe(true);
  });

  it('computes strict and ann-benchmarks recall over the full query set, with the per-query distribution', () => {
    for (const ds of report.datasets) {
      for (const c of ds.configs) {
        for (const p of c.points) {
          for (const m of [p.single, p.batch]) {
            expect(m?.recallQueries, `${c.config.id} ${p.label}`).toBe(ds.info.nq);
            expect(m!.hist10!.reduce((a, b) => a + b, 0)).toBe(ds.info.nq);
            // Strict never exceeds the tolerant figure.
            expect(m!.strict10!).toBeLessThanOrEqual(m!.recall10 + 1e-12);
          }
        }
        if (c.config.backend === 'faiss-flat') expect(c.points[0]!.single!.strict10).toBe(1);
      }
    }
  });

  it('checks HNSW graph connectivity by self-search', () => {
    for (const c of report.datasets[0]!.configs) {
      const k = c.build!.connectivity;
      if (c.config.backend === 'hnswlib' || c.config.backend === 'usearch') {
        expect(k, c.config.id).toBeDefined();
        expect(k!.sampled).toBe(10_000);
        // A healthy graph finds (nearly) every vector from itself.
        expect(k!.notFound).toBeLessThan(100);
      } else {
        expect(k).toBeUndefined();
      }
    }
  });

  it('runs every backend without a failed job', () => {
    const ds = report.datasets[0]!;
    expect(ds.info.n).toBe(10_000);
    const failures = ds.configs.flatMap((c) => c.failures);
    expect(failures, lines.join('\n')).toEqual([]);
    expect(new Set(ds.configs.map((c) => c.config.backend))).toEqual(new Set(['faiss-flat', 'faiss-ivf', 'hnswlib', 'usearch']));
  });

  it('measures exact recall for flat and sane recall for every ANN index at its top sweep point', () => {
    const ds = report.datasets[0]!;
    for (const c of ds.configs) {
      const top = c.points.at(-1)!;
      expect(top.single, c.config.id).toBeDefined();
      expect(top.batch, c.config.id).toBeDefined();
      if (c.config.backend === 'faiss-flat') {
        expect(top.single!.recall10).toBe(1);
        expect(top.batch!.recall100).toBe(1);
      } else {
        expect(top.single!.recall10, c.config.id).toBeGreaterThan(0.8);
        expect(top.batch!.recall10, c.config.id).toBeGreaterThan(0.8);
      }
      for (const p of c.points) {
        for (const r of [p.single?.recall1, p.single?.recall10, p.batch?.recall100]) {
          expect(r).toBeGreaterThanOrEqual(0);
          expect(r).toBeLessThanOrEqual(1);
        }
      }
    }
  });

  it('records build, memory, disk, load and the adapter-vs-bare comparison', () => {
    for (const c of report.datasets[0]!.configs) {
      expect(c.build!.diskBytes, c.config.id).toBeGreaterThan(c.config.build.quantization === "i8" ? 10_000 * 512 : 10_000 * 512 * 2);
      expect(c.single!.loadMs).toBeGreaterThan(0);
      expect(c.bareBuild!.times.addMs).toBeGreaterThan(0);
      expect(c.overhead.map((o) => o.mode).sort()).toEqual(['batch', 'build', 'single']);
      for (const o of c.overhead) expect(o.ratio).toBeGreaterThan(0);
      // Search overheads are medians over ≥ 3 interleaved repetitions, with their spread.
      for (const o of c.overhead.filter((x) => x.mode !== 'build')) {
        expect(o.ratioSpread!.n).toBeGreaterThanOrEqual(3);
        expect(o.ratioSpread!.min).toBeLessThanOrEqual(o.ratio);
        expect(o.ratioSpread!.max).toBeGreaterThanOrEqual(o.ratio);
      }
    }
    expect(report.targets.length).toBeGreaterThan(0);
  });
});
