// pixsearch serve [...folders]
import { existsSync } from 'node:fs';
import { PixsearchError } from '@pixsearch/core/errors';
import type { FolderWatcher } from '@pixsearch/core/engine';
import type { RunningServer, StartServerOptions } from '@pixsearch/server';
import { resolveSettings, type Settings } from '../config.js';
import type { CommandContext } from '../context.js';
import { checkFolders, openEngine, prefetchModel } from '../engine.js';
import { EXIT, UsageError } from '../errors.js';
import { untilInterrupted } from '../interrupt.js';
import { openWithSystem } from '../open.js';
import { defaultPicturesDir, expandPath, prog } from '../paths.js';
import { plural, printSyncSummary, runServerSync, watchFolders, type SyncRun } from '../sync.js';
import { printable } from '../terminal-text.js';

export async function run({ out, args, flags }: CommandContext): Promise<number> {
  const { settings } = resolveSettings(flags);
  const { dbFlag } = await import('./db.js');
  const db = dbFlag(flags);
  if (db !== undefined) return serveDb(out, settings, db, flags);
  const given = ((args[0] as string[] | undefined) ?? []).map((f) => expandPath(f));
  let roots: string[] | undefined = given.length > 0 ? given : settings.folders;
  if (roots) checkFolders(roots);

  const engine = await openEngine(out, settings, roots ? { roots } : {});
  try {
    const stats = await engine.stats();
    if (!roots && stats.roots.length === 0) {
      // Nothing given, nothing indexed before: the default picture folder.
      const pictures = defaultPicturesDir();
      if (!existsSync(pictures)) {
        throw new UsageError(`no folder given, and the default ${pictures} does not exist`, `pass the folder to search: ${prog()} serve ~/Photos`);
      }
      roots = [pictures];
      await engine.addRoots(roots);
    }
    const effectiveRoots = roots ?? stats.roots;

    // The server listens and publishes the discovery file before the first sync, so that from
    // now on `pixsearch index/search/similar` on this data directory talk to it (an `index`
    // during the startup sync follows it and queues its own) instead of finding it locked.
    const { publishServer, generateOwnerSecret } = await import('@pixsearch/server');
    const ownerSecret = generateOwnerSecret();
    let watcher: FolderWatcher | undefined;
    const server = await listen(settings, {
      engine,
      ownerSecret,
      // `pixsearch index <new folder>` through this server adds a root: follow it too.
      onSyncDone: (_summary, added) => {
        if (added && watcher) void engine.stats().then((st) => watcher?.addRoots(st.roots), () => undefined);
      },
    });
    let published: Awaited<ReturnType<typeof publishServer>> | undefined;
    try {
      published = await publishServer(engine.dataDir, { url: server.localUrl, secret: ownerSecret });
      const app = server.app;
      // Follow the folders from before the first sync, so nothing that changes during it is missed;
      // paused until it ends. The watcher's syncs go through the server (the page sees them).
      watcher = flags.watch === false ? undefined : await watchFolders(out, effectiveRoots, [engine.dataDir], () => app.requestSync('watch'), true);
      try {
        let sync: SyncRun | undefined;
        if (flags.sync !== false) {
          out.info(out.ce.dim(`Indexing ${effectiveRoots.map(printable).join(', ')} into ${printable(settings.dataDir)} (model ${stats.model || settings.model || 'default'}, ${stats.backend})`));
          // The server's own sync (trigger `startup`), shown here; a new library's model is fetched first, as part of it.
          sync = await runServerSync(out, engine, app, roots, () => prefetchModel(out, settings, stats));
          if (!out.json) printSyncSummary(out, sync, effectiveRoots);
          if (sync.summary.aborted) {
            if (out.json) out.result({ sync: sync.summary, indexed: sync.indexed });
            return EXIT.interrupted;
          }
        }

        // The watcher's syncs cover every folder of the library, not only those named here: follow them all.
        if (watcher) await watcher.addRoots((await engine.stats()).roots);
        // Listen for Ctrl-C before saying "Press Ctrl-C" (a script may send SIGINT as soon as it reads it).
        const interrupted = untilInterrupted();
        watcher?.resume();
        const tokenRequired = server.token !== undefined;
        if (out.json) {
          out.result({
            url: server.url,
            openUrl: server.openUrl,
            ...(tokenRequired ? { token: server.token } : {}),
            roots: effectiveRoots,
            dataDir: settings.dataDir,
            indexed: sync?.indexed ?? stats.images.indexed,
            ...(sync ? { sync: sync.summary } : {}),
            watching: watcher ? watcher.mode : false,
          });
        } else {
          const { c } = out;
          out.line();
          const n = sync?.indexed ?? stats.images.indexed;
          out.line(`${c.green('➜')} pixsearch is serving ${c.bold(String(n))} ${plural(n, 'image')} at ${c.cyan(c.bold(server.url))}`);
          if (tokenRequired) {
            out.line(`  ${c.yellow('token:')} ${server.token}   ${c.dim('(needed from other machines)')}`);
            out.line(`  open:  ${c.cyan(server.openUrl)}`);
          }
          if (watcher) out.info(out.ce.dim(watcher.mode === 'events' ? 'Following the folders for changes.' : 'Rescanning the folders for changes periodically.'));
          out.info(out.ce.dim('Press Ctrl-C to stop.'));
        }
        if (flags.open === true && !openWithSystem(server.openUrl)) out.warn(`cannot open a browser: no system opener found (xdg-open); visit ${server.url}`);
        const signal = await interrupted;
        out.info(out.ce.dim(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping the server…`));
        return EXIT.ok;
      } finally {
        await watcher?.close();
      }
    } finally {
      await published?.remove().catch(() => undefined);
      await server.close();
    }
  } finally {
    await engine.close();
  }
}

/** Starts the server with the host, port and token of `settings`, and says plainly why it cannot listen. */
async function listen(settings: Settings, options: Omit<StartServerOptions, 'host' | 'port' | 'token'>): Promise<RunningServer> {
  const { startServer } = await import('@pixsearch/server');
  try {
    return await startServer({
      ...options,
      ...(settings.host !== undefined ? { host: settings.host } : {}),
      ...(settings.port !== undefined ? { port: settings.port } : {}),
      ...(settings.token !== undefined ? { token: settings.token } : {}),
    });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') {
      throw new PixsearchError('PORT_IN_USE', `port ${settings.port ?? 8765} is already in use on ${settings.host ?? '127.0.0.1'}`, {
        hint: 'pick another one: --port 8080 (or --port 0 for any free port)',
        cause: err,
      });
    }
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') {
      throw new PixsearchError('BAD_HOST', `cannot listen on ${settings.host}: not an address of this machine`, { hint: 'use --host 127.0.0.1 (this machine) or --host 0.0.0.0 (all interfaces)', cause: err });
    }
    throw err;
  }
}

/**
 * `pixsearch serve --db <url>`: a read-only front end of a library in PostgreSQL. A pgvector
 * library is searched in the workers' table; otherwise the front end builds an in-memory index from
 * the stored embeddings. It follows what the scanner and the workers commit while it serves
 * (`EngineOptions.followIntervalMs`), so new images become searchable without a restart.
 */
async function serveDb(out: CommandContext['out'], settings: ReturnType<typeof resolveSettings>['settings'], db: string, flags: CommandContext['flags']): Promise<number> {
  const engine = await openEngine(out, settings, { db });
  try {
    const stats = await engine.stats();
    const { startServer } = await import('@pixsearch/server');
    const server = await startServer({
      engine,
      ...(settings.host !== undefined ? { host: settings.host } : {}),
      ...(settings.port !== undefined ? { port: settings.port } : {}),
      ...(settings.token !== undefined ? { token: settings.token } : {}),
    });
    const interrupted = untilInterrupted();
    try {
      const n = stats.images.indexed;
      if (out.json) out.result({ url: server.url, openUrl: server.openUrl, ...(server.token !== undefined ? { token: server.token } : {}), indexed: n, readOnly: true });
      else {
        out.line(`${out.c.green('➜')} pixsearch is serving ${out.c.bold(String(n))} ${plural(n, 'image')} from the database at ${out.c.cyan(out.c.bold(server.url))} (read-only)`);
        if (server.token !== undefined) out.line(`  ${out.c.yellow('token:')} ${server.token}`);
        out.info(out.ce.dim('Press Ctrl-C to stop.'));
      }
      if (flags.open === true && !openWithSystem(server.openUrl)) out.warn(`cannot open a browser: no system opener found (xdg-open); visit ${server.url}`);
      await interrupted;
    } finally {
      await server.close();
    }
    return EXIT.ok;
  } finally {
    await engine.close();
  }
}
