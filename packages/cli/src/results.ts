// Printing search results (search and similar share it).
import type { ImageInfo, SearchResponse } from '@pixsearch/core/engine';
import { openWithSystem } from './open.js';
import type { Output } from './output.js';
import { printable } from './terminal-text.js';

/** `2023-07-14 10:23` of an ISO date taken (the camera's local time), or '' when unknown. */
export function shortDate(image: Pick<ImageInfo, 'takenAt' | 'dateSource'>): string {
  if (!image.takenAt) return '';
  const d = image.takenAt.slice(0, 16).replace('T', ' ');
  return image.dateSource === 'mtime' ? `${d} (file date)` : d;
}

/**
 * Prints one absolute path per line (`--paths`). On a terminal the paths are escaped like every
 * other name; into a pipe or a file they are written exactly, for the next program to open
 * (a name holding a newline is ambiguous there: use --json for such libraries).
 */
export function printPaths(out: Output, images: readonly Pick<ImageInfo, 'absPath'>[]): void {
  for (const h of images) out.line(out.tty ? out.fileLink(printable(h.absPath), h.absPath) : h.absPath);
}

/**
 * Prints ranked results — rank, score, catalog id (for `similar <id>`), the absolute path (a
 * hyperlink on terminals that show them), date taken and camera — or their JSON, or only paths.
 */
export function printResults(out: Output, res: SearchResponse, meta: { query: unknown; offset: number; threshold: number | undefined; paths?: boolean }): void {
  const hits = res.results;
  if (out.json) {
    out.result({
      query: meta.query,
      results: hits.map((h, i) => ({ rank: meta.offset + i + 1, ...h })),
      ...(res.total !== undefined ? { total: res.total } : {}),
      timings: res.timings,
    });
    return;
  }
  if (meta.paths) {
    printPaths(out, hits);
  } else {
    const { c } = out;
    const width = String(meta.offset + hits.length).length;
    const idWidth = Math.max(0, ...hits.map((h) => String(h.id).length));
    hits.forEach((h, i) => {
      const rank = `${String(meta.offset + i + 1).padStart(width)}.`;
      const id = `#${String(h.id).padEnd(idWidth)}`;
      const shown = out.fileLink(printable(h.absPath), h.absPath);
      const facts = [shortDate(h), h.camera ? printable(h.camera) : '', out.verbose ? `${h.width}×${h.height} ${h.format}` : ''].filter((x) => x !== '').join(' · ');
      out.line(`  ${c.dim(rank)} ${c.green(h.score.toFixed(4))}  ${c.cyan(id)}  ${shown}${facts ? c.dim(`  ${facts}`) : ''}`);
    });
  }
  const t = res.timings;
  if (hits.length === 0) {
    out.info(
      `No results${meta.threshold !== undefined ? ` above the threshold ${meta.threshold}` : ''}. ${out.ce.dim('Try other words, or a lower --threshold (e.g. --threshold 0).')}`,
    );
  } else {
    const more = res.total !== undefined && res.total > meta.offset + hits.length ? ` (next page: --offset ${meta.offset + hits.length})` : '';
    out.info(out.ce.dim(`${hits.length} result${hits.length === 1 ? '' : 's'}${res.total !== undefined ? ` of ${res.total}` : ''} in ${t.total.toFixed(0)} ms${more}`));
  }
}

/** `--open`: shows the top hit in the system viewer, or says why it cannot. */
export function openTop(out: Output, res: SearchResponse): void {
  const top = res.results[0];
  if (!top) return;
  const file = top.absPath;
  if (!openWithSystem(file)) {
    out.warn(`cannot open ${printable(file)}: no system viewer found (install xdg-utils for xdg-open)`);
  } else out.info(out.ce.dim(`Opening ${printable(file)}`));
}
