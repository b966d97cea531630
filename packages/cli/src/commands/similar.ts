// pixsearch similar <image-path-or-id>
import { realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { SearchEngine, SearchResponse } from '@pixsearch/core/engine';
import { resolveSettings } from '../config.js';
import type { CommandContext } from '../context.js';
import { NothingIndexedError, dataDirExists, openEngine } from '../engine.js';
import { EXIT, UsageError } from '../errors.js';
import { expandPath } from '../paths.js';
import { RemoteLibrary } from '../remote.js';
import { openTop, printResults } from '../results.js';
import { searchOptionsFrom } from '../search-options.js';

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

/** The `k` default and maximum of the engine that answers: a server says them in its hello (so the warm path loads no engine). */
async function kLimits(engine: RemoteLibrary | SearchEngine): Promise<{ defaultK: number; maxK: number }> {
  const told = engine instanceof RemoteLibrary ? engine.hello?.limits : undefined;
  if (told) return told;
  const { DEFAULT_K, MAX_K } = await import('@pixsearch/core/engine');
  return { defaultK: DEFAULT_K, maxK: MAX_K };
}

export async function run({ out, args, flags }: CommandContext): Promise<number> {
  const { settings } = resolveSettings(flags);
  const target = String(args[0] ?? '').trim();
  if (target === '') throw new UsageError('missing image path or id', 'pixsearch similar ~/Pictures/dog.jpg   or   pixsearch similar 42');
  const options = searchOptionsFrom(flags, settings);
  const file = expandPath(target);
  const byFile = isFile(file);
  if (!byFile && !/^\d+$/.test(target)) {
    throw new UsageError(`no such image file: ${file}`, 'pass an image file, or a catalog id (shown by search --verbose or --json)');
  }
  if (!dataDirExists(settings.dataDir)) throw new NothingIndexedError(settings.dataDir);

  // A running `serve` answers warm; otherwise the library is opened here.
  const engine = (await RemoteLibrary.find(out, settings)) ?? (await openEngine(out, settings, { readOnly: true }));
  try {
    let res: SearchResponse;
    if (byFile) {
      // An image of the library would come first, as its own best match: leave it out, like similar(id) does.
      // The k limits of the engine that answers (a server says them: the warm path loads no engine).
      const limits = await kLimits(engine);
      const k = options.k ?? limits.defaultK;
      const self = realpathSync(file);
      const first = !options.offset;
      res = await engine.searchByImage(file, first ? { ...options, k: Math.min(k + 1, limits.maxK) } : options);
      if (first) {
        const kept = res.results.filter((h) => join(h.root, h.path) !== self && join(h.root, h.path) !== file);
        res = { ...res, results: kept.slice(0, k), ...(res.total !== undefined && kept.length < res.results.length ? { total: res.total - 1 } : {}) };
      }
    } else res = await engine.similar(Number(target), options);
    printResults(out, res, { query: byFile ? { image: file } : { imageId: Number(target) }, offset: options.offset ?? 0, threshold: options.threshold ?? 0.1, paths: flags.paths === true });
    if (flags.open === true) openTop(out, res);
    return EXIT.ok;
  } finally {
    if (!(engine instanceof RemoteLibrary)) await engine.close();
  }
}
