// pixsearch search <query...>
import { resolveSettings } from '../config.js';
import type { CommandContext } from '../context.js';
import { NothingIndexedError, dataDirExists, openEngine } from '../engine.js';
import { EXIT, UsageError } from '../errors.js';
import { MINUS_MARK } from '../argv.js';
import { expandPath } from '../paths.js';
import { RemoteLibrary } from '../remote.js';
import { openTop, printResults } from '../results.js';
import { searchOptionsFrom } from '../search-options.js';

/** Joins the query words back together (the shell may have split an unquoted query). */
export function queryText(args: unknown[], flags: Record<string, unknown>): string {
  const words = [...((args[0] as unknown[] | undefined) ?? []), ...((flags['--'] as unknown[] | undefined) ?? [])];
  return words
    .map((w) => (w === MINUS_MARK ? '-' : String(w)))
    .join(' ')
    .trim();
}

export async function run({ out, args, flags }: CommandContext): Promise<number> {
  const { settings } = resolveSettings(flags);
  const text = queryText(args, flags);
  if (text === '') throw new UsageError('the query is empty', 'pixsearch search "a dog on a bench"');
  const options = searchOptionsFrom(flags, settings);

  // A running `serve` answers warm; otherwise the library is opened here. A query without
  // image:"path" terms goes to the server as text (it parses it the same way), so the warm
  // path never loads the engine. In-process, a bad query is reported before a missing library.
  const remote = await RemoteLibrary.find(out, settings);
  let terms: Parameters<RemoteLibrary['search']>[0] = text;
  if (!remote || /image\s*:/i.test(text)) {
    const { parseQuery } = await import('@pixsearch/core/engine');
    // image:"path" terms name files on this machine: allowed here, resolved against the cwd.
    terms = parseQuery(text, { allowImagePaths: true }).map((t) => ('image' in t && typeof t.image === 'string' ? { ...t, image: expandPath(t.image) } : t));
  }
  if (!remote && !dataDirExists(settings.dataDir)) throw new NothingIndexedError(settings.dataDir);
  const engine = remote ?? (await openEngine(out, settings, { readOnly: true }));
  try {
    const res = await engine.search(terms, options);
    printResults(out, res, { query: text, offset: options.offset ?? 0, threshold: options.threshold ?? 0.1, paths: flags.paths === true });
    if (flags.open === true) openTop(out, res);
    return EXIT.ok;
  } finally {
    if (!(engine instanceof RemoteLibrary)) await engine.close();
  }
}
