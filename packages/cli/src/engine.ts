// Opening the engine from CLI settings: the one place the CLI turns flags into EngineOptions.
import { existsSync, statSync } from 'node:fs';
import type { EngineOptions, SearchEngine } from '@pixsearch/core/engine';
import { PixsearchError } from '@pixsearch/core/errors';
import type { Settings } from './config.js';
import { UsageError } from './errors.js';
import type { Output } from './output.js';
import { prog } from './paths.js';

export interface OpenOptions {
  /** Image folders (absolute); undefined = the catalog's. */
  roots?: string[] | undefined;
  /** Search-only use: no sync, no writer lock. */
  readOnly?: boolean;
  /** Forget the stored embeddings when the model changed (the next sync re-embeds). */
  reembed?: boolean;
  /** A library in PostgreSQL (`--db`): a read-only front end over its catalog. */
  db?: string;
}

/** A nothing-indexed-yet data directory, reported with the command that fixes it. */
export class NothingIndexedError extends PixsearchError {
  constructor(dataDir: string) {
    super('NOT_INDEXED', `nothing is indexed in ${dataDir} yet`, {
      hint: `index a folder first: ${prog()} index ~/Pictures (or pass the --data-dir you indexed into)`,
    });
  }
}

/**
 * Before the first sync of a new library, fetches the model (with a progress bar) so that a
 * missing download fails at once, with its instructions, instead of after scanning the folders.
 * Does nothing for a local bundle folder or a library that already has embeddings.
 */
export async function prefetchModel(out: Output, settings: Settings, stats: { dimension: number; model: string }): Promise<void> {
  if (stats.dimension > 0) return;
  const clip = await import('@pixsearch/core/clip');
  const { ProgressDisplay, downloadProgressHandler } = await import('./progress.js');
  const model = settings.model ?? (stats.model || clip.DEFAULT_MODEL);
  if (!clip.isHubId(model) || existsSync(model)) return;
  const display = new ProgressDisplay(out);
  try {
    await clip.pullModel(model, { ...(settings.cacheDir !== undefined ? { cacheDir: settings.cacheDir } : {}), onProgress: downloadProgressHandler(display) });
  } finally {
    display.finish();
  }
}

/** Checks that each folder exists and is a directory; throws a usage error naming the first bad one. */
export function checkFolders(folders: string[]): void {
  for (const f of folders) {
    let st;
    try {
      st = statSync(f);
    } catch {
      throw new UsageError(`folder not found: ${f}`, 'check the path (folders are relative to the current directory)');
    }
    if (!st.isDirectory()) throw new UsageError(`not a folder: ${f}`, 'pass folders of images; to search by an image use: pixsearch similar <image>');
  }
}

/** True when `dataDir` holds something an engine wrote (read-only commands must not create it). */
export function dataDirExists(dataDir: string): boolean {
  return existsSync(dataDir);
}

/**
 * Opens the engine for a command: maps settings to {@link EngineOptions}, shows model download
 * progress and forwards engine warnings to stderr. The caller must `close()` the engine.
 */
export async function openEngine(out: Output, settings: Settings, opts: OpenOptions = {}): Promise<SearchEngine> {
  const { SearchEngine } = await import('@pixsearch/core/engine');
  const { ProgressDisplay, downloadProgressHandler } = await import('./progress.js');
  const display = new ProgressDisplay(out);
  const options: EngineOptions = {
    dataDir: settings.dataDir,
    ...(opts.roots !== undefined ? { roots: opts.roots } : {}),
    ...(settings.model !== undefined ? { model: settings.model } : {}),
    ...(settings.backend !== undefined ? { backend: settings.backend } : {}),
    ...(settings.backendParams !== undefined ? { backendParams: settings.backendParams } : {}),
    ...(settings.batchSize !== undefined ? { batchSize: settings.batchSize } : {}),
    ...(settings.threads !== undefined ? { threads: settings.threads } : {}),
    ...(settings.device !== undefined ? { device: settings.device } : {}),
    ...(settings.visionDtype !== undefined ? { visionDtype: settings.visionDtype } : {}),
    ...(settings.textDtype !== undefined ? { textDtype: settings.textDtype } : {}),
    ...(settings.preprocess !== undefined ? { preprocess: settings.preprocess } : {}),
    ...(settings.ignore !== undefined ? { ignore: settings.ignore } : {}),
    ...(settings.cacheDir !== undefined ? { cacheDir: settings.cacheDir } : {}),
    ...(opts.readOnly || opts.db !== undefined ? { readOnly: true } : {}),
    ...(opts.reembed ? { reembed: true } : {}),
    onDownloadProgress: downloadProgressHandler(display),
  };
  if (opts.db !== undefined) {
    // A read-only front end over the library's catalog. A pgvector library is searched in the table
    // the workers fill (the catalog names it; the connection is --db's, held in memory only); a
    // library with a local backend gets an in-memory index built from the stored embeddings. Either
    // way the front end follows what the workers commit (one generation lookup a second).
    const { PostgresCatalog } = await import('@pixsearch/index-pgvector/catalog');
    options.catalog = PostgresCatalog.open(opts.db, { readOnly: true, applicationName: 'pixsearch-serve' });
    options.connection = opts.db;
    options.followIntervalMs = 1000;
  }
  let engine: SearchEngine;
  try {
    engine = await SearchEngine.open(options);
  } finally {
    display.finish();
  }
  engine.on('warning', (msg: string) => out.warn(msg));
  return engine;
}
