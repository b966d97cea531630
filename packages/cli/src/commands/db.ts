// pixsearch index --db <url> [...folders]  and  pixsearch worker --db <url>: one library in
// PostgreSQL shared by many machines (scanner + embedding workers; see docs/scale-out.md).
import { redactUrl } from '@pixsearch/index-pgvector/catalog';
import type { CommandContext } from '../context.js';
import { flagString, lastValue, numberFlag } from '../config.js';
import { EXIT, UsageError } from '../errors.js';
import { abortOnInterrupt } from '../interrupt.js';
import { expandPath } from '../paths.js';
import { ProgressDisplay, syncProgressHandler } from '../progress.js';
import { plural } from '../sync.js';
import { printable } from '../terminal-text.js';

/** The `--db` URL, or undefined when the flag is absent. */
export function dbFlag(flags: Record<string, unknown>): string | undefined {
  const url = flagString(flags, 'db', '--db');
  if (url === undefined) return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) throw new UsageError(`--db: expected a PostgreSQL URL (postgres://user@host:5432/database), got ${JSON.stringify(url)}`);
  return url;
}

function params(flags: Record<string, unknown>): Record<string, number | string> | undefined {
  const raw = flags.param;
  if (raw === undefined) return undefined;
  const out: Record<string, number | string> = {};
  for (const p of (Array.isArray(raw) ? raw : [raw]).map(String)) {
    const eq = p.indexOf('=');
    if (eq <= 0) throw new UsageError(`--param: expected key=value, got ${JSON.stringify(p)}`);
    const v = p.slice(eq + 1);
    out[p.slice(0, eq)] = v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : v;
  }
  return out;
}

/** `pixsearch index --db <url> [...folders]`: scan, record skips, queue new content for the workers. */
export async function runIndexDb(url: string, { out, args, flags }: CommandContext): Promise<number> {
  const { scanLibrary } = await import('@pixsearch/index-pgvector/distributed');
  const roots = ((args[0] as string[] | undefined) ?? []).map((f) => expandPath(f));
  const model = flagString(flags, 'model', '--model');
  const backend = flagString(flags, 'backend', '--backend');
  const backendParams = params(flags);
  const jobTimeout = numberFlag(flags, 'jobTimeout', '--job-timeout', { min: 1, max: 86_400, integer: true });
  const ignore = flags.ignore === undefined ? undefined : (Array.isArray(flags.ignore) ? flags.ignore : [flags.ignore]).map(String);
  out.info(out.ce.dim(`Scanning ${roots.length > 0 ? roots.map(printable).join(', ') : 'the library\'s folders'} into ${printable(redactUrl(url))}; workers embed what is new`));
  const controller = new AbortController();
  const display = new ProgressDisplay(out);
  const release = abortOnInterrupt(out, controller, 'the scan');
  try {
    const s = await scanLibrary({
      url,
      ...(roots.length > 0 ? { roots } : {}),
      ...(model !== undefined ? { model: expandModel(model) } : {}),
      ...(backend !== undefined ? { backend } : {}),
      ...(backendParams ? { backendParams } : {}),
      ...(ignore ? { ignore } : {}),
      ...(jobTimeout !== undefined ? { queue: { expireInSeconds: jobTimeout } } : {}),
      signal: controller.signal,
      progress: syncProgressHandler(display),
      warn: (m) => out.warn(m),
    });
    display.finish();
    if (out.json) out.result({ ...s, db: redactUrl(url) });
    else {
      const { c } = out;
      out.line(`${s.aborted ? c.yellow('Interrupted') : c.green('✓')} ${c.bold(String(s.queued))} ${plural(s.queued, 'image')} queued for the workers · ${s.added} added · ${s.updated} updated · ${s.moved} moved · ${s.removed} removed · ${s.unchanged} unchanged · ${s.skipped} skipped`);
      if (s.queued > 0) out.info(c.dim(`run \`pixsearch worker --db <url>\` on any machine that sees the folders at the same paths`));
    }
    return s.aborted ? EXIT.interrupted : EXIT.ok;
  } finally {
    display.finish();
    release();
  }
}

function expandModel(m: string): string {
  return m.startsWith('.') || m.startsWith('/') || m.startsWith('~') ? expandPath(m) : m;
}

/** `pixsearch worker --db <url>`: claims embedding jobs until Ctrl-C / SIGTERM. */
export async function run({ out, flags }: CommandContext): Promise<number> {
  const url = dbFlag(flags);
  if (!url) throw new UsageError('worker: --db <url> is required', 'e.g. pixsearch worker --db postgres://pixsearch@db-host/photos');
  if (flags.visionDtype !== undefined || flags.textDtype !== undefined) {
    throw new UsageError('worker: the tower dtypes are the library\'s (recorded by `pixsearch index --db`)', 'leave out --vision-dtype and --text-dtype');
  }
  const { runWorker } = await import('@pixsearch/index-pgvector/distributed');
  const model = flagString(flags, 'model', '--model');
  const batchSize = numberFlag(flags, 'batchSize', '--batch-size', { min: 1, max: 1024, integer: true });
  const threads = numberFlag(flags, 'threads', '--threads', { min: 1, max: 1024, integer: true });
  const device = flagString(flags, 'device', '--device');
  if (device !== undefined && device !== 'cpu' && device !== 'cuda') throw new UsageError(`--device: expected cpu or cuda, got ${JSON.stringify(device)}`);
  const cacheDir = flagString(flags, 'cacheDir', '--cache-dir');
  const controller = new AbortController();
  const release = abortOnInterrupt(out, controller, 'the worker');
  const display = new ProgressDisplay(out);
  out.info(out.ce.dim(`Worker ${process.pid} on ${printable(redactUrl(url))}: waiting for jobs (Ctrl-C stops after the batch in hand)`));
  try {
    const p = await runWorker({
      url,
      ...(model !== undefined ? { model: expandModel(model) } : {}),
      ...(batchSize !== undefined ? { batchSize } : {}),
      ...(threads !== undefined ? { threads } : {}),
      ...(device !== undefined ? { device } : {}),
      ...(cacheDir !== undefined ? { cacheDir: expandPath(String(lastValue(cacheDir))) } : {}),
      signal: controller.signal,
      warn: (m) => out.warn(m),
      progress: (w) => display.update({ label: 'Embedding', noun: 'images', done: w.embedded + w.skipped, total: undefined, rate: w.rate, etaSeconds: undefined, current: w.current }),
    });
    display.finish();
    if (out.json) out.result(p);
    else out.line(`${out.c.green('✓')} worker stopped: ${p.embedded} embedded · ${p.skipped} skipped · ${p.stale} stale jobs`);
    return EXIT.ok;
  } finally {
    display.finish();
    release();
  }
}
