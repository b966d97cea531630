// Printing search results (search and similar share it).
import { join } from 'node:path';
import type { SearchResponse } from '@pixsearch/core/engine';
import { openWithSystem } from './open.js';
import type { Output } from './output.js';
import { printable } from './terminal-text.js';

/** Prints ranked results (`  1. 0.3269  holidays/2019/dog-bench.jpg`) or their JSON. */
export function printResults(out: Output, res: SearchResponse, meta: { query: unknown; offset: number; threshold: number | undefined }): void {
  const hits = res.results;
  if (out.json) {
    out.result({
      query: meta.query,
      results: hits.map((h, i) => ({ rank: meta.offset + i + 1, ...h, absPath: join(h.root, h.path) })),
      ...(res.total !== undefined ? { total: res.total } : {}),
      timings: res.timings,
    });
    return;
  }
  const { c } = out;
  const oneRoot = new Set(hits.map((h) => h.root)).size <= 1;
  const width = String(meta.offset + hits.length).length;
  hits.forEach((h, i) => {
    const rank = `${String(meta.offset + i + 1).padStart(width)}.`;
    const shown = printable(oneRoot ? h.path : join(h.root, h.path));
    const size = out.verbose ? c.dim(`  ${h.width}×${h.height} ${h.format}  id ${h.id}`) : '';
    out.line(`  ${c.dim(rank)} ${c.green(h.score.toFixed(4))}  ${shown}${size}`);
  });
  const t = res.timings;
  if (hits.length === 0) {
    out.info(
      `No results${meta.threshold !== undefined ? ` above the threshold ${meta.threshold}` : ''}. ${out.ce.dim('Try other words, or a lower --threshold (e.g. --threshold 0).')}`,
    );
  } else {
    const root = oneRoot && hits[0] ? `  in ${printable(hits[0].root)}` : '';
    out.info(out.ce.dim(`${hits.length} result${hits.length === 1 ? '' : 's'}${res.total !== undefined ? ` of ${res.total}` : ''} in ${t.total.toFixed(0)} ms${root}`));
  }
}

/** `--open`: shows the top hit in the system viewer, or says why it cannot. */
export function openTop(out: Output, res: SearchResponse): void {
  const top = res.results[0];
  if (!top) return;
  const file = join(top.root, top.path);
  if (!openWithSystem(file)) {
    out.warn(`cannot open ${file}: no system viewer found (install xdg-utils for xdg-open)`);
  } else out.info(out.ce.dim(`Opening ${printable(file)}`));
}
