// pixsearch index [...folders]
import { resolveSettings } from '../config.js';
import type { CommandContext } from '../context.js';
import { checkFolders, openEngine, prefetchModel } from '../engine.js';
import { EXIT, UsageError } from '../errors.js';
import { expandPath, prog } from '../paths.js';
import { printSyncSummary, runSync } from '../sync.js';
import { printable } from '../terminal-text.js';

export async function run({ out, args, flags }: CommandContext): Promise<number> {
  const { settings } = resolveSettings(flags);
  const given = ((args[0] as string[] | undefined) ?? []).map((f) => expandPath(f));
  const roots = given.length > 0 ? given : settings.folders;
  if (roots) checkFolders(roots);

  const engine = await openEngine(out, settings, { reembed: flags.reembed === true });
  try {
    const stats = await engine.stats();
    if (stats.roots.length === 0 && (!roots || roots.length === 0)) {
      throw new UsageError('no folder to index: none given and none indexed before', `pass one or more folders: ${prog()} index ~/Pictures`);
    }
    const effectiveRoots = roots ?? stats.roots;
    out.info(out.ce.dim(`Indexing ${effectiveRoots.map(printable).join(', ')} into ${printable(settings.dataDir)} (model ${stats.model || settings.model || 'default'}, ${stats.backend})`));
    await prefetchModel(out, settings, stats);
    const result = await runSync(out, engine, roots);
    if (out.json) out.result({ ...result.summary, indexed: result.indexed, dataDir: settings.dataDir, roots: effectiveRoots });
    else printSyncSummary(out, result, effectiveRoots);
    return result.summary.aborted ? EXIT.interrupted : EXIT.ok;
  } finally {
    await engine.close();
  }
}
