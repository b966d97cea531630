// pixsearch index [...folders]
import { DataDirInUseError } from '@pixsearch/core/errors';
import type { SearchEngine } from '@pixsearch/core/engine';
import { resolveSettings } from '../config.js';
import type { CommandContext } from '../context.js';
import { checkFolders, openEngine, prefetchModel } from '../engine.js';
import { EXIT, UsageError } from '../errors.js';
import { expandPath, prog } from '../paths.js';
import { untilInterrupted } from '../interrupt.js';
import { RemoteLibrary } from '../remote.js';
import { printSyncSummary, printWatchSync, runRemoteSync, runSync, watchFolders } from '../sync.js';
import { printable } from '../terminal-text.js';

export async function run(ctx: CommandContext): Promise<number> {
  const { dbFlag, runIndexDb } = await import('./db.js');
  const db = dbFlag(ctx.flags);
  if (db !== undefined) return runIndexDb(db, ctx);
  const { out, args, flags } = ctx;
  const { settings } = resolveSettings(flags);
  const given = ((args[0] as string[] | undefined) ?? []).map((f) => expandPath(f));
  const roots = given.length > 0 ? given : settings.folders;
  if (roots) checkFolders(roots);

  // A running `serve` owns the library: it syncs, and this command shows that sync's progress.
  const remote = await RemoteLibrary.find(out, settings);
  if (remote) return viaServer(ctx, remote, roots, settings.dataDir);

  let engine: SearchEngine;
  try {
    engine = await openEngine(out, settings, { reembed: flags.reembed === true });
  } catch (err) {
    // Locked: a `serve` that is starting publishes its server in a moment (then it runs the sync).
    if (!(err instanceof DataDirInUseError) || flags.reembed === true) throw err;
    const starting = await RemoteLibrary.waitFor(out, settings, err.pid);
    if (!starting) throw err;
    return viaServer(ctx, starting, roots, settings.dataDir);
  }
  try {
    const stats = await engine.stats();
    if (stats.roots.length === 0 && (!roots || roots.length === 0)) {
      throw new UsageError('no folder to index: none given and none indexed before', `pass one or more folders: ${prog()} index ~/Pictures`);
    }
    const effectiveRoots = roots ?? stats.roots;
    const watch = flags.watch === true;
    // --watch follows the folders from before the first sync (paused until it ends), so nothing
    // that changes during it is missed.
    const watcher = watch
      ? await watchFolders(out, effectiveRoots, [settings.dataDir], async () => {
          const r = await runSync(out, engine);
          printWatchSync(out, r.summary, r.indexed);
          return r.summary;
        }, true)
      : undefined;
    try {
      out.info(out.ce.dim(`Indexing ${effectiveRoots.map(printable).join(', ')} into ${printable(settings.dataDir)} (model ${stats.model || settings.model || 'default'}, ${stats.backend})`));
      await prefetchModel(out, settings, stats);
      const result = await runSync(out, engine, roots);
      const summary = { ...result.summary, indexed: result.indexed, dataDir: settings.dataDir, roots: effectiveRoots };
      // --watch --json is a stream of events, one compact object per line (NDJSON); without --watch, one JSON document.
      if (out.json) {
        if (watcher) out.event({ event: 'sync', ...summary });
        else out.result(summary);
      } else printSyncSummary(out, result, effectiveRoots);
      if (result.summary.aborted || !watcher) return result.summary.aborted ? EXIT.interrupted : EXIT.ok;

      // --watch: one coalesced sync per burst of changes, until Ctrl-C.
      const watched = (await engine.stats()).roots;
      await watcher.addRoots(watched);
      const interrupted = untilInterrupted();
      watcher.resume();
      out.event({ event: 'watching', roots: watched, mode: watcher.mode });
      out.info(out.ce.dim(`Watching ${watched.map(printable).join(', ')} for changes${watcher.mode === 'poll' ? ' (by rescans)' : ''}. Press Ctrl-C to stop.`));
      await interrupted;
      return EXIT.ok;
    } finally {
      await watcher?.close();
    }
  } finally {
    await engine.close();
  }
}

/** `index` through the running `serve` of the data directory: it syncs, this command shows that sync. */
async function viaServer({ out, flags }: CommandContext, remote: RemoteLibrary, roots: string[] | undefined, dataDir: string): Promise<number> {
  if (flags.reembed === true) {
    throw new UsageError(`pixsearch serve (pid ${remote.info.pid}) is using ${printable(dataDir)}; re-embedding needs the library to itself`, 'stop the server (Ctrl-C), run the index --reembed, then serve again');
  }
  out.info(out.ce.dim(`pixsearch serve (pid ${remote.info.pid}, ${remote.info.url}) owns ${printable(dataDir)}: it runs the sync`));
  const result = await runRemoteSync(out, remote, roots);
  const effective = roots ?? [];
  const summary = { ...result.summary, indexed: result.indexed, dataDir, roots: effective, server: remote.info.url };
  // --watch --json always prints NDJSON (here one line: the server does the following).
  if (out.json) {
    if (flags.watch === true) out.event({ event: 'sync', ...summary });
    else out.result(summary);
  } else printSyncSummary(out, result, effective);
  if (flags.watch === true && !result.summary.aborted) out.info(out.ce.dim('the server follows the folders for changes itself; --watch has nothing to add'));
  return result.summary.aborted ? EXIT.interrupted : EXIT.ok;
}
