/** Writes a run's files: report.json, report.md and one SVG plot per dataset and mode. */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '@pixsearch/core';
import type { RunReport } from '../results.js';
import { renderMarkdown } from './markdown.js';
import { recallQpsSvg, type PlotSeries } from './svg.js';

/** Paths written. */
export interface ReportFiles {
  json: string;
  markdown: string;
  plots: string[];
}

function series(report: RunReport, dsIndex: number, mode: 'single' | 'batch'): PlotSeries[] {
  const ds = report.datasets[dsIndex]!;
  return ds.configs.map((c) => ({
    label: c.config.label,
    points: c.points
      .filter((p) => p[mode])
      .map((p) => ({ recall: p[mode]!.recall10, qps: p[mode]!.qps, data: p.label })),
  }));
}

/** Writes the report into `outDir` (created). */
export async function writeReport(report: RunReport, outDir: string): Promise<ReportFiles> {
  mkdirSync(outDir, { recursive: true });
  const plots: Record<string, string[]> = {};
  const written: string[] = [];
  for (let i = 0; i < report.datasets.length; i++) {
    const ds = report.datasets[i]!;
    plots[ds.info.name] = [];
    for (const mode of ['single', 'batch'] as const) {
      const file = `recall-qps-${ds.info.name}-${mode}.svg`;
      const title = `${ds.info.name}: recall@10 vs QPS (${mode === 'single' ? 'one query at a time, 1 thread' : `batch of ${ds.info.nq}, all cores`})`;
      const subtitle = `${ds.info.n.toLocaleString('en-US')} × ${ds.info.dimension}-d, ${report.machine.cpu}, ${report.machine.cores} cores — up and to the right is better`;
      await writeFileAtomic(path.join(outDir, file), recallQpsSvg(title, series(report, i, mode), { subtitle }));
      plots[ds.info.name]!.push(file);
      written.push(path.join(outDir, file));
    }
  }
  const json = path.join(outDir, 'report.json');
  const markdown = path.join(outDir, 'report.md');
  await writeFileAtomic(json, JSON.stringify(report, null, 2) + '\n');
  await writeFileAtomic(markdown, renderMarkdown(report, plots));
  return { json, markdown, plots: written };
}
