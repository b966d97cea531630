// pixsearch model pull [id] | list | path [id] | generate --preset tiny|vit-b-32 --out <dir>
import { existsSync } from 'node:fs';
import { flagString, numberFlag, resolveSettings } from '../config.js';
import type { CommandContext } from '../context.js';
import { EXIT, UsageError } from '../errors.js';
import { expandPath, prog } from '../paths.js';
import { ProgressDisplay, downloadProgressHandler } from '../progress.js';
import { formatBytes } from './status.js';

const ACTIONS = ['pull', 'list', 'path', 'generate'] as const;
type Action = (typeof ACTIONS)[number];

export async function run(ctx: CommandContext): Promise<number> {
  const action = String(ctx.args[0] ?? '');
  if (!(ACTIONS as readonly string[]).includes(action)) {
    throw new UsageError(`unknown model action "${action}": use one of ${ACTIONS.join(', ')}`, 'run pixsearch model --help for examples');
  }
  const name = ctx.args[1] === undefined ? undefined : String(ctx.args[1]);
  if ((action === 'list' || action === 'generate') && name !== undefined) {
    throw new UsageError(`model ${action} takes no name (got "${name}")`, action === 'generate' ? 'pixsearch model generate --preset tiny --out ./models/tiny' : 'pixsearch model list');
  }
  const handlers: Record<Action, (ctx: CommandContext, name: string | undefined) => Promise<number>> = { pull, list, path: where, generate };
  return handlers[action as Action](ctx, name);
}

async function pull({ out, flags }: CommandContext, name: string | undefined): Promise<number> {
  const { settings } = resolveSettings(flags);
  const clip = await import('@pixsearch/core/clip');
  const id = name ?? clip.DEFAULT_MODEL;
  if (!clip.isHubId(id)) throw new UsageError(`"${id}" is not a hub model id (owner/name)`, `e.g. pixsearch model pull ${clip.DEFAULT_MODEL}`);
  const display = new ProgressDisplay(out);
  out.info(out.ce.dim(`Fetching ${id} into ${clip.cachedModelDir(id, settings.cacheDir ?? clip.defaultCacheDir())}`));
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  let folder: string;
  try {
    folder = await clip.pullModel(id, {
      ...(settings.cacheDir !== undefined ? { cacheDir: settings.cacheDir } : {}),
      onProgress: downloadProgressHandler(display),
      signal: controller.signal,
    });
  } finally {
    display.finish();
    process.off('SIGINT', onSignal);
  }
  if (out.json) out.result({ id, folder });
  else out.line(`${out.c.green('✓')} ${id} is ready in ${folder}`);
  return EXIT.ok;
}

async function list({ out, flags }: CommandContext): Promise<number> {
  const { settings } = resolveSettings(flags);
  const clip = await import('@pixsearch/core/clip');
  const cacheDir = settings.cacheDir ?? clip.defaultCacheDir();
  const models = await clip.listCachedModels(cacheDir);
  if (out.json) {
    out.result({ cacheDir, models });
    return EXIT.ok;
  }
  if (models.length === 0) {
    out.line(`No models in the cache (${cacheDir}).`);
    out.info(out.ce.dim(`hint: pixsearch model pull   (downloads ${clip.DEFAULT_MODEL}), or pass --model <bundle folder> to index/search/serve`));
    return EXIT.ok;
  }
  const width = Math.max(...models.map((m) => m.id.length));
  for (const m of models) out.line(`${m.id.padEnd(width)}  ${formatBytes(m.bytes).padStart(9)}  ${out.c.dim(m.folder)}`);
  return EXIT.ok;
}

async function where({ out, flags }: CommandContext, name: string | undefined): Promise<number> {
  const { settings } = resolveSettings(flags);
  const clip = await import('@pixsearch/core/clip');
  const id = name ?? clip.DEFAULT_MODEL;
  let folder: string;
  if (!clip.isHubId(id) || existsSync(expandPath(id))) folder = expandPath(id);
  else folder = clip.cachedModelDir(id, settings.cacheDir ?? clip.defaultCacheDir());
  const present = existsSync(folder);
  if (out.json) out.result({ id, folder, present });
  else {
    out.line(folder);
    if (!present) out.info(out.ce.dim(`(not downloaded yet: pixsearch model pull ${id})`));
  }
  return EXIT.ok;
}

async function generate({ out, flags }: CommandContext): Promise<number> {
  const preset = flagString(flags, 'preset', '--preset') ?? 'tiny';
  if (preset !== 'tiny' && preset !== 'vit-b-32') throw new UsageError(`--preset: expected tiny or vit-b-32, got ${JSON.stringify(preset)}`);
  const outFlag = flagString(flags, 'out', '--out');
  if (outFlag === undefined) throw new UsageError('model generate needs --out <dir>', `pixsearch model generate --preset ${preset} --out ./models/${preset}`);
  const seed = numberFlag(flags, 'seed', '--seed', { min: 0, max: 2 ** 31 - 1, integer: true });
  const dir = expandPath(outFlag);
  const { generateBundle, WEIGHT_VARIANTS } = await import('@pixsearch/core/model-generator');
  const dtypesFlag = flagString(flags, 'dtypes', '--dtypes');
  const dtypes = dtypesFlag === undefined ? undefined : dtypesFlag.split(',').map((d) => (d.trim() === 'q8' ? 'quantized' : d.trim()));
  const bad = dtypes?.find((d) => !(WEIGHT_VARIANTS as readonly string[]).includes(d));
  if (bad !== undefined || dtypes?.length === 0) throw new UsageError(`--dtypes: expected a comma-separated list of ${WEIGHT_VARIANTS.join(', ')}, q8; got ${JSON.stringify(dtypesFlag)}`);
  const display = new ProgressDisplay(out);
  const t0 = Date.now();
  try {
    await generateBundle({
      preset,
      out: dir,
      ...(seed !== undefined ? { seed } : {}),
      ...(dtypes !== undefined ? { variants: dtypes as (typeof WEIGHT_VARIANTS)[number][] } : {}),
      onProgress: (p) => {
        const secs = (Date.now() - t0) / 1000;
        display.update({ label: 'Writing', noun: 'files', done: p.done, total: p.total, rate: secs > 0 ? p.done / secs : 0, etaSeconds: undefined, current: p.file });
      },
    });
  } finally {
    display.finish();
  }
  if (out.json) out.result({ preset, folder: dir, seed: seed ?? 0 });
  else {
    out.line(`${out.c.green('✓')} generated the ${preset} bundle in ${dir}`);
    out.info(out.ce.dim('Its weights are random: use it to try pixsearch offline or to test, not for meaningful results.'));
    out.info(out.ce.dim(`Next: ${prog()} serve <folder> --model ${outFlag}   (or: ${prog()} index <folder> --model ${outFlag})`));
  }
  return EXIT.ok;
}
