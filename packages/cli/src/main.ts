// The `pixsearch` command line: argument parsing (cac), help texts and dispatch. Each command's
// implementation is imported only when it runs, so `--help` and `--version` load nothing heavy.
import { readFileSync } from 'node:fs';
import { cac, type CAC, type Command } from 'cac';
import { EXIT, UsageError, exitCodeFor } from './errors.js';
import type { CommandContext } from './context.js';
import { Output, loadTerminalSupport } from './output.js';
import { markArgv, unmark } from './argv.js';


function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

// Value options arrive as strings (repeated ones as several); validation happens in config.ts.
// (cac applies this transform to absent options too, hence the undefined check.)
const S = { type: [(v: unknown): unknown => (v === undefined || typeof v === 'boolean' ? v : unmark(String(v)))] };

function dataOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'Catalog and index folder (default: $XDG_DATA_HOME/pixsearch or ~/.local/share/pixsearch)', S)
    .option('--model <id|dir>', 'Model bundle folder or hub id (default: the one the library was indexed with)', S);
}

function runtimeOptions(cmd: Command): Command {
  return cmd
    .option('--threads <n>', 'Image-tower threads (default: all cores; the text tower uses one)', S)
    .option('--device <cpu|cuda>', 'Where the model runs (default: cpu)', S)
    .option('--vision-dtype <dtype>', 'Image tower precision: fp32, fp16, int8, uint8, q8 (default: the library\'s, else fp32)', S)
    .option('--text-dtype <dtype>', 'Text tower precision: fp32, fp16, int8, uint8, q8 (default: the library\'s, else q8)', S)
    .option('--cache-dir <dir>', 'Model download cache (default: $PIXSEARCH_CACHE or ~/.cache/pixsearch)', S);
}

/** Backend names for the help text: the registered ones (discovered only when help is shown). */
let backendNames: readonly string[] = [];

function indexOptions(cmd: Command): Command {
  const names = backendNames.length > 0 ? `${backendNames.join(', ')}; ` : '';
  return cmd
    .option('--backend <name>', `Vector index: ${names}default auto; pixsearch backends lists them with their parameters`, S)
    .option('--param <key=value>', 'Backend parameter, repeatable (e.g. --param M=32)', S)
    .option('--batch-size <n>', 'Images per model batch (default: 16)', S)
    .option('--preprocess <mode>', 'scaled (default: JPEGs decoded at the size the model needs) or exact (full decode, bit-exact with PIL)', S)
    .option('--ignore <glob>', 'Skip matching files or folders, repeatable (e.g. --ignore "**/raw/**")', S);
}

function searchOptions(cmd: Command): Command {
  cmd
    .option('-k <n>', 'Number of results, 1..1000 (default: 30)', S)
    .option('--threshold <x>', 'Minimum cosine score, -1..1 (default: 0.1)', S)
    .option('--relative <x>', 'Keep only results within x of the best score (e.g. 0.05)', S)
    .option('--offset <n>', 'Skip the first n results (paging)', S)
    .option('--sort <order>', 'relevance (default), date-desc or date-asc (all results above the threshold, by date taken)', S)
    .option('--paths', 'Print only absolute paths, one per line (for piping: xargs, feh, …)');
  return filterFlags(cmd).option('--open', 'Open the top result with the system viewer');
}

/** Metadata filters (search, similar, duplicates). */
function filterFlags(cmd: Command): Command {
  return cmd
    .option('--path <prefix>', 'Only images under this folder: root-relative (trips/2023/) or absolute', S)
    .option('--from <date>', 'Taken on or after: 2023-07-01 or 2023-07-01T08:00 (Z or +02:00 for an exact instant)', S)
    .option('--to <date>', 'Taken on or before (inclusive: a date includes that whole day)', S)
    .option('--camera <name>', 'Camera whose name contains this (fuji, "EOS R5"), repeatable', S)
    .option('--format <fmt>', 'jpeg, png, webp, heic, … (repeatable or comma-separated)', S)
    .option('--min-width <px>', 'Minimum width in pixels', S)
    .option('--min-height <px>', 'Minimum height in pixels', S)
    .option('--has-location', 'Only photos with a GPS position')
    .option('--without-location', 'Only photos without a GPS position');
}

/** Builds the cac instance; `run` receives the command name, its positional args and options. */
export function buildCli(run: (name: string, args: unknown[], flags: Record<string, unknown>) => Promise<void>): CAC {
  const cli = cac('pixsearch');
  const act =
    (name: string) =>
    (...a: unknown[]): Promise<void> => {
      const flags = a.pop() as Record<string, unknown>;
      return run(name, a, flags);
    };

  cli
    .option('--json', 'Machine-readable output on stdout (progress and messages go to stderr)')
    .option('--verbose', 'Say more (e.g. list skipped files)')
    .option('--debug', 'Show stack traces on errors')
    .option('--config <file>', `Config file (default: ./pixsearch.config.json when present)`, S);

  indexOptions(
    runtimeOptions(
      dataOptions(cli.command('index [...folders]', 'Index image folders (incremental: only new or changed images are embedded)')),
    ),
  )
    .option('--reembed', 'Embed every image again with --model (after a model change)')
    .option('--watch', 'Keep running: sync again whenever the folders change (Ctrl-C stops)')
    .option('--db <url>', 'Library in PostgreSQL: scan and queue new images for `pixsearch worker` processes (see docs/scale-out.md)', S)
    .option('--job-timeout <s>', 'With --db: seconds before a job of a dead worker is retried (default: 600)', S)
    .example('  $ pixsearch index ~/Pictures')
    .example('  $ pixsearch index ~/Pictures /mnt/photos --backend hnswlib')
    .example('  $ pixsearch index            # re-sync the folders indexed before')
    .example('  $ pixsearch index ~/Pictures --model ./models/tiny --json | jq .added')
    .action(act('index'));

  searchOptions(runtimeOptions(dataOptions(cli.command('search <...query>', 'Search the library with words (and combine terms with + and -)'))))
    .example('  $ pixsearch search "a dog on a bench"')
    .example(`  $ pixsearch search '"beach" + "sunset" - "people"' -k 10`)
    .example(`  $ pixsearch search '2:"sunset" + "mountains"' --threshold 0.2 --path holidays/`)
    .example('  $ pixsearch search "red car" --json | jq -r ".results[].absPath"')
    .example('  $ pixsearch search beach --from 2023-06-01 --to 2023-08-31 --camera fuji --sort date-desc')
    .example('  $ pixsearch search "sunset" --paths | xargs feh')
    .action(act('search'));

  searchOptions(runtimeOptions(dataOptions(cli.command('similar <image>', 'Find images similar to an image file or a catalog id'))))
    .example('  $ pixsearch similar ~/Pictures/holidays/2019/dog-bench.jpg')
    .example('  $ pixsearch similar 42 -k 5')
    .action(act('similar'));

  filterFlags(dataOptions(cli.command('duplicates', 'List exact copies and near-duplicates (never deletes or moves anything)')))
    .option('--threshold <x>', 'Cosine similarity from which images are near-duplicates, 0..1 (default: 0.97)', S)
    .option('--neighbors <n>', 'Neighbours compared per image, 1..100 (default: 10)', S)
    .option('--csv', 'Print the list as CSV (one row per image) to export it')
    .option('--paths', 'Print only the absolute paths of the non-keepers, one per line')
    .example('  $ pixsearch duplicates')
    .example('  $ pixsearch duplicates --threshold 0.97 --json > duplicates.json')
    .example('  $ pixsearch duplicates --csv > duplicates.csv')
    .action(act('duplicates'));

  indexOptions(runtimeOptions(dataOptions(cli.command('serve [...folders]', 'Index the folders if needed, then serve the search page'))))
    .option('--port <n>', 'Port (default: 8765; 0 picks a free one)', S)
    .option('--host <addr>', 'Address to bind (default: 127.0.0.1; anything else requires a token)', S)
    .option('--token <secret>', 'Bearer token for non-loopback access (default: generated and printed)', S)
    .option('--no-sync', 'Serve what is indexed without syncing first')
    .option('--no-watch', 'Do not follow changes in the folders (sync only at start and on request)')
    .option('--open', 'Open the page in the browser')
    .option('--db <url>', 'Serve a library in PostgreSQL, read-only (filled by `index --db` and `worker --db`)', S)
    .example('  $ pixsearch serve                  # ~/Pictures, or the folders indexed before')
    .example('  $ pixsearch serve ~/Photos --port 8080')
    .example('  $ pixsearch serve ~/Photos --model ./models/tiny   # offline, with a local bundle')
    .action(act('serve'));

  runtimeOptions(cli.command('worker', 'Embed images queued by `pixsearch index --db` (run any number, on any machine that sees the folders at the same paths)'))
    .option('--db <url>', 'The library\'s PostgreSQL database (required)', S)
    .option('--model <id|dir>', 'Model (default: the one the library was indexed with; must be the same)', S)
    .option('--batch-size <n>', 'Jobs claimed and embedded at once (default: 8)', S)
    .example('  $ pixsearch worker --db postgres://pixsearch@db-host/photos')
    .action(act('worker'));

  dataOptions(cli.command('status', 'Show what is indexed, with which model and backend, skipped files and disk use'))
    .example('  $ pixsearch status')
    .example('  $ pixsearch status --json | jq .images')
    .action(act('status'));

  cli
    .command('model <action> [name]', 'Manage models: pull [id] | list | path [id] | generate --preset tiny|vit-b-32 --out <dir>')
    .option('--cache-dir <dir>', 'Model download cache (default: $PIXSEARCH_CACHE or ~/.cache/pixsearch)', S)
    .option('--preset <name>', 'generate: tiny (a few MB, for tests) or vit-b-32 (ViT-B/32 dimensions, ~600 MB)', S)
    .option('--out <dir>', 'generate: folder to write the bundle into', S)
    .option('--seed <n>', 'generate: random seed (default: the preset seed)', S)
    .option('--dtypes <list>', 'generate: tower precisions to write, e.g. fp32,q8,int8 (default: fp32,q8; q8 and int8 have signed int8 weights)', S)
    .example('  $ pixsearch model pull                          # the default model, into the cache')
    .example('  $ pixsearch model pull Xenova/clip-vit-base-patch32')
    .example('  $ pixsearch model list')
    .example('  $ pixsearch model path Xenova/clip-vit-base-patch32')
    .example('  $ pixsearch model generate --preset tiny --out ./models/tiny')
    .action(act('model'));

  cli
    .command('backends', 'List the vector backends registered in this installation, with their build and search parameters')
    .example('  $ pixsearch backends')
    .example('  $ pixsearch backends --json | jq -r ".[].name"')
    .action(act('backends'));

  cli
    .command('bench [...args]', 'Run the benchmark suite (pnpm bench, from a pixsearch checkout)')
    .allowUnknownOptions()
    .example('  $ pixsearch bench')
    .action(act('bench'));

  cli.help((sections) => {
    for (const s of sections) s.body = s.body.split('\n').map((l) => l.trimEnd()).join('\n');
    // The global usage line shows the real commands rather than cac's generic "<command> [options]".
    const first = sections[0];
    if (first && !first.title) first.body = `pixsearch ${version()} — search your own images with natural language or by example`;
    return sections;
  });
  cli.version(version());
  return cli;
}

type CommandModule = { run: (ctx: CommandContext) => Promise<number> };
const COMMANDS: Record<string, () => Promise<CommandModule>> = {
  index: () => import('./commands/index-cmd.js'),
  worker: () => import('./commands/db.js'),
  search: () => import('./commands/search.js'),
  similar: () => import('./commands/similar.js'),
  duplicates: () => import('./commands/duplicates.js'),
  serve: () => import('./commands/serve.js'),
  status: () => import('./commands/status.js'),
  model: () => import('./commands/model.js'),
  bench: () => import('./commands/bench.js'),
  backends: () => import('./commands/backends.js'),
};
const KNOWN = Object.keys(COMMANDS);

function preprocess(argv: string[]): string[] {
  return markArgv(argv, KNOWN);
}

/**
 * cac turns every `type: [String]` option into an array as soon as any option is given, absent
 * ones included (`[undefined]`): drop those so "absent" is always `undefined`.
 */
function cleanFlags(flags: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(flags)) {
    if (Array.isArray(v) && k !== '--') {
      const kept = v.filter((x) => x !== undefined).map(unmark);
      if (kept.length > 0) out[k] = kept;
    } else if (v !== undefined) out[k] = unmark(v);
  }
  return out;
}

/** Rewords cac's parse errors as one clear line naming the command, with a hint. */
function usageFromCac(err: Error, cmd: Command | undefined): UsageError {
  const name = cmd?.name;
  const hint = `run pixsearch ${name ? `${name} ` : ''}--help to see what it accepts`;
  const msg = err.message.replace(/`/g, '');
  const missing = /^missing required args for command (.*)$/.exec(msg);
  if (missing && cmd) {
    const want = cmd.args.filter((a) => a.required).map((a) => `<${a.value}>`).join(' ');
    return new UsageError(`${name}: missing ${want}`, `usage: pixsearch ${cmd.rawName}; ${hint}`);
  }
  const unknown = /^Unknown option (.*)$/.exec(msg);
  if (unknown) return new UsageError(`unknown option ${unknown[1]}${name ? ` for "${name}"` : ''}`, hint);
  const noValue = /^option (\S+).* value is missing$/.exec(msg);
  if (noValue) return new UsageError(`option ${noValue[1]} needs a value`, hint);
  return new UsageError(msg, hint);
}

/** Runs the CLI with `argv` (without node and script). Resolves to the exit code. */
export async function main(argv: string[]): Promise<number> {
  await loadTerminalSupport();
  const wantsJson = argv.includes('--json');
  const wantsDebug = argv.includes('--debug');
  let out = new Output(wantsJson, wantsDebug, argv.includes('--verbose'));
  let code: number = EXIT.ok;

  const run = async (name: string, args: unknown[], flags: Record<string, unknown>): Promise<void> => {
    out = new Output(flags.json === true, flags.debug === true, flags.verbose === true);
    out.argv = argv;
    const ctx: CommandContext = { out, args: args.map(unmark), flags: cleanFlags(flags) };
    const load = COMMANDS[name];
    if (!load) throw new UsageError(`unknown command "${name}"`);
    code = await (await load()).run(ctx);
  };

  let cli: CAC | undefined;
  try {
    // Help lists the registered backends: discover the adapter packages (no native library loads).
    if (argv.length === 0 || argv.includes('--help') || argv.includes('-h')) {
      const { listBackends } = await import('@pixsearch/core');
      backendNames = (await listBackends()).map((b) => b.name);
    }
    cli = buildCli(run);
    cli.parse(['node', 'pixsearch', ...preprocess(argv)], { run: false });
    const opts = cli.options as Record<string, unknown>;
    if (!cli.matchedCommand) {
      if (opts.help || opts.version) return EXIT.ok; // cac printed it
      const first = unmark(cli.args[0]);
      if (first !== undefined) {
        const near = KNOWN.find((k) => k.startsWith(String(first).slice(0, 2)));
        throw new UsageError(`unknown command "${String(first)}"${near ? ` (did you mean "${near}"?)` : ''}`, 'run pixsearch --help to list the commands');
      }
      const stray = Object.keys(opts).filter((k) => k !== '--' && opts[k] !== undefined);
      if (stray.length > 0 && !stray.every((k) => ['json', 'verbose', 'debug', 'config'].includes(k))) {
        const name = stray.find((k) => !['json', 'verbose', 'debug', 'config'].includes(k))!;
        throw new UsageError(`unknown option ${name.length > 1 ? '--' : '-'}${name}`, 'run pixsearch --help to list the commands and options');
      }
      cli.outputHelp();
      return EXIT.ok;
    }
    if (opts.help) return EXIT.ok;
    await cli.runMatchedCommand();
    return code;
  } catch (err) {
    let e = err instanceof Error && err.name === 'CACError' ? usageFromCac(err, cli?.matchedCommand) : err;
    if (e instanceof UsageError && e.hint === undefined) {
      const name = cli?.matchedCommand?.name;
      e = new UsageError(e.message, `run pixsearch ${name ? `${name} ` : ''}--help to see what it accepts`);
    }
    out.error(e);
    return exitCodeFor(e);
  }
}

export type { CommandContext } from './context.js';
