// Runs one engine sync with progress on stderr and Ctrl-C handling, and prints its summary.
import type { FolderWatcher, SearchEngine, SyncSummary } from '@pixsearch/core/engine';
import type { PixsearchApp } from '@pixsearch/server';
import type { RemoteLibrary } from './remote.js';
import { abortOnInterrupt } from './interrupt.js';
import type { Output } from './output.js';
import { prog } from './paths.js';
import { printable } from './terminal-text.js';
import { ProgressDisplay, formatDuration, syncProgressHandler } from './progress.js';

export interface SyncRun {
  summary: SyncSummary;
  /** Images indexed in the library after the sync. */
  indexed: number;
}

/** Runs `engine.sync()` over `roots` (default: all the library's); Ctrl-C aborts it (the summary then says `aborted: true`). */
export function runSync(out: Output, engine: SearchEngine, roots?: string[]): Promise<SyncRun> {
  return showSync(out, engine, (signal) => engine.sync({ signal, ...(roots ? { roots } : {}) }));
}

/**
 * `pixsearch serve`'s startup sync: run by its own server (trigger `startup`, so the page and any
 * `pixsearch index` see and wait for it), shown here like {@link runSync}. `prepare` runs first,
 * as part of the sync. Ctrl-C aborts it (the summary then says `aborted: true`).
 */
export function runServerSync(out: Output, engine: SearchEngine, app: PixsearchApp, roots: string[] | undefined, prepare?: () => Promise<void>): Promise<SyncRun> {
  return showSync(out, engine, (signal) => app.requestSync('startup', { roots, signal, prepare }));
}

/** Shows the progress of the sync `start` runs, aborts it on Ctrl-C, then counts what is indexed. */
async function showSync(out: Output, engine: SearchEngine, start: (signal: AbortSignal) => Promise<SyncSummary>): Promise<SyncRun> {
  const controller = new AbortController();
  const display = new ProgressDisplay(out);
  const onProgress = syncProgressHandler(display);
  engine.on('progress', onProgress);
  const release = abortOnInterrupt(out, controller, 'indexing');
  let summary: SyncSummary;
  try {
    summary = await start(controller.signal);
  } finally {
    display.finish();
    engine.off('progress', onProgress);
    release();
  }
  const stats = await engine.stats();
  return { summary, indexed: stats.images.indexed };
}

/**
 * Has the running server sync (after the one it runs, if any) and shows that sync's progress
 * like a local one. Ctrl-C stops following (the server finishes the sync; `aborted` is then true).
 */
export async function runRemoteSync(out: Output, remote: RemoteLibrary, roots?: string[]): Promise<SyncRun> {
  const controller = new AbortController();
  const display = new ProgressDisplay(out);
  const onProgress = syncProgressHandler(display);
  const release = abortOnInterrupt(out, controller, "following the server's sync");
  let summary: SyncSummary;
  try {
    summary = await remote.sync(roots, onProgress, controller.signal, (running) => {
      const which = running.trigger === 'startup' ? "the server's startup sync" : running.trigger === 'watch' ? "the server's sync of changes it saw" : 'a sync already running';
      out.info(out.ce.dim(`waiting for ${which} to finish (its progress below); this command's sync runs right after it`));
    });
  } catch (err) {
    if (!controller.signal.aborted) throw err;
    summary = { added: 0, updated: 0, moved: 0, removed: 0, unchanged: 0, skipped: 0, embedded: 0, queued: 0, durationMs: 0, aborted: true, skippedFiles: [] };
  } finally {
    display.finish();
    release();
  }
  return { summary, indexed: await remote.indexed() };
}

/**
 * Starts following `roots` for changes: every change (coalesced) runs `sync`. Tells the user when
 * the folders cannot be watched (inotify limits) and rescans are used instead. Close the watcher.
 */
export async function watchFolders(out: Output, roots: readonly string[], exclude: readonly string[], sync: () => Promise<unknown>, paused = false): Promise<FolderWatcher> {
  const { FolderWatcher } = await import('@pixsearch/core/engine');
  const watcher = await FolderWatcher.start({ roots, exclude, sync, paused });
  watcher.on('warning', (m) => out.warn(m));
  if (watcher.fallbackReason) out.warn(watcher.fallbackReason);
  return watcher;
}

/**
 * One line for a sync the watcher ran: for humans, what changed (nothing when nothing did); with
 * `--json`, an NDJSON line `{"event":"sync",…summary,"indexed":n}` for every sync.
 */
export function printWatchSync(out: Output, s: SyncSummary, indexed: number): void {
  const parts = (
    [
      ['added', s.added],
      ['updated', s.updated],
      ['moved', s.moved],
      ['removed', s.removed],
      ['skipped', s.skipped],
    ] as [string, number][]
  ).filter(([, n]) => n > 0);
  if (parts.length === 0 && !out.json) return;
  if (out.json) {
    out.event({ event: 'sync', ...s, indexed });
    return;
  }
  const time = new Date().toLocaleTimeString();
  out.line(`${out.c.dim(time)} ${parts.map(([k, n]) => `${n} ${k}`).join(' · ')} → ${out.c.bold(String(indexed))} ${plural(indexed, 'image')}`);
}

export function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}

function countBy<T>(items: T[], key: (t: T) => string): [string, number][] {
  const m = new Map<string, number>();
  for (const it of items) m.set(key(it), (m.get(key(it)) ?? 0) + 1);
  return [...m.entries()].sort((a, b) => b[1] - a[1]);
}

/** Human summary of a sync on stdout (plus skipped files with `--verbose`). */
export function printSyncSummary(out: Output, run: SyncRun, roots: string[]): void {
  const { summary: s, indexed } = run;
  const { c } = out;
  const secs = s.durationMs / 1000;
  const rate = s.embedded > 0 && secs > 0 ? ` (${(s.embedded / secs).toFixed(1)} images/s)` : '';
  if (s.aborted) {
    out.line(
      `${c.yellow('Interrupted')} after ${formatDuration(secs)}: ${s.embedded} ${plural(s.embedded, 'image')} embedded in this run, ${c.bold(String(indexed))} indexed in total — all kept.`,
    );
    out.line(c.dim('Run the same command again to finish (only the rest is embedded).'));
  } else {
    out.line(`${c.green('✓')} ${c.bold(String(indexed))} ${plural(indexed, 'image')} in the library · ${s.embedded} embedded in ${formatDuration(secs)}${rate}`);
  }
  const parts: [string, number][] = [
    ['added', s.added],
    ['updated', s.updated],
    ['moved', s.moved],
    ['removed', s.removed],
    ['unchanged', s.unchanged],
    ['skipped', s.skipped],
  ];
  out.line(`  ${parts.map(([k, v]) => `${v > 0 && k !== 'unchanged' ? c.bold(String(v)) : String(v)} ${k}`).join(' · ')}`);
  if (s.skippedFiles.length > 0) {
    const reasons = countBy(s.skippedFiles, (f) => f.reason)
      .map(([r, n]) => `${n} ${r}`)
      .join(', ');
    out.line(`  ${c.yellow('skipped:')} ${reasons}${out.verbose ? '' : c.dim(`  (--verbose lists them; ${prog()} status shows all)`)}`);
    if (out.verbose) {
      const shown = s.skippedFiles.map((f) => printable(f.path));
      const width = Math.min(48, Math.max(...shown.map((p) => p.length)));
      s.skippedFiles.forEach((f, i) => out.line(`    ${shown[i]!.padEnd(width)}  ${c.dim(`${f.reason}: ${printable(f.message)}`)}`));
    }
  }
  if (!s.aborted && s.added + s.updated + s.moved + s.unchanged + s.skipped === 0) {
    out.warn(`no images found in ${roots.join(', ')}`);
    out.info(out.ce.dim('hint: pixsearch indexes JPEG, PNG, WebP, GIF, TIFF, AVIF and SVG files, in all subfolders'));
  }
}
