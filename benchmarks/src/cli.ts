#!/usr/bin/env node
/**
 * `pnpm bench [flags]` — runs the benchmark suite and writes a report under benchmarks/results/.
 * See benchmarks/README.md.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCH_BACKENDS, type BenchBackend } from './backends/index.js';

const isBenchBackend = (b: string): b is BenchBackend => (BENCH_BACKENDS as readonly string[]).includes(b);
import { DATA_VARIANTS, parseSize, type DataVariant } from './datasets/store.js';
import { writeReport } from './report/write.js';
import { DEFAULT_DATA_DIR, modeDefaults, runSuite, type SuiteOptions } from './runner.js';

const HELP = `pixsearch benchmarks — recall, speed, memory and build cost of every vector backend

usage: pnpm bench [--quick | --full] [options]

  --quick               CI smoke run: 10k vectors, 200 queries, a few sweep points (default)
  --full                the published run: 10k, 100k and 1M; full sweeps; best of 3
  --sizes LIST          synthetic sizes, e.g. 10k,100k,1m (overrides the mode's)
  --data LIST           synthetic data sets per size: standard (image queries), text (text-like
                        queries across CLIP's modality gap), hard (overlapping clusters)
                        (default: standard,text; the full run adds hard below 1M)
  --dataset FILE        also run on a user dataset: an ann-benchmarks .hdf5 file (e.g.
                        coco-t2i-512-angular.hdf5) or BASE.fvecs:QUERIES.fvecs; repeatable
  --max-base N          use at most N base vectors of a --dataset
  --backends LIST       subset of ${BENCH_BACKENDS.join(',')}
  --queries N           queries per synthetic dataset (quick 200, full 1000)
  --reps N              best-of repetitions (quick 1, full 3)
  --budget S            seconds per sweep point before a slow point stops early (quick 2, full 10)
  --no-overhead         skip the adapter-vs-bare-library comparison (default: on below 1M)
  --overhead            compare at every size, 1M included
  --seed N              dataset seed (default 1)
  --data-dir DIR        dataset/index cache (default benchmarks/.data, or $PIXSEARCH_BENCH_DATA)
  --out DIR             report folder (default benchmarks/results/<date>-<mode>)
  --engine              also time a text query end to end through the engine (generated ViT-B/32
                        bundle over a 100k library; on by default with --full)
  --no-engine           skip it
  --engine-only         only the engine measurement
  --engine-backends L   backends for it (default auto,faiss-flat,hnswlib)
  --engine-queries N    queries for it (default 200)
  --engine-size N       library size for it (default 100k)
  --resume              keep the datasets already measured in --out DIR's report.json (a long
                        run that stopped continues where it was; sizes can be run at different times)
  --keep-indexes        keep the built indexes in the cache
  -h, --help            this text
`;

const packageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function list(text: string | undefined): string[] | undefined {
  return text === undefined ? undefined : text.split(',').map((s) => s.trim()).filter(Boolean);
}

function positiveInt(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer, got "${text}"`);
  return v;
}

/** Parses argv into suite options (throws with a usable message on bad flags). */
export function parseCli(argv: string[]): SuiteOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean' },
      full: { type: 'boolean' },
      sizes: { type: 'string' },
      data: { type: 'string' },
      dataset: { type: 'string', multiple: true },
      'max-base': { type: 'string' },
      backends: { type: 'string' },
      queries: { type: 'string' },
      reps: { type: 'string' },
      budget: { type: 'string' },
      overhead: { type: 'boolean' },
      'no-overhead': { type: 'boolean' },
      seed: { type: 'string' },
      'data-dir': { type: 'string' },
      out: { type: 'string' },
      'keep-indexes': { type: 'boolean' },
      resume: { type: 'boolean' },
      engine: { type: 'boolean' },
      'no-engine': { type: 'boolean' },
      'engine-only': { type: 'boolean' },
      'engine-backends': { type: 'string' },
      'engine-queries': { type: 'string' },
      'engine-size': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return 'help';
  if (values.quick && values.full) throw new Error('choose one of --quick and --full');
  const mode = values.full ? 'full' : 'quick';
  const d = modeDefaults(mode);
  const backends = list(values.backends);
  for (const b of backends ?? []) if (!isBenchBackend(b)) throw new Error(`unknown backend "${b}"; choose from ${BENCH_BACKENDS.join(', ')}`);
  const engineOnly = values['engine-only'] ?? false;
  const sizes = engineOnly ? [] : (list(values.sizes)?.map(parseSize) ?? (values.dataset?.length ? [] : d.sizes));
  const engineBackends = list(values['engine-backends']) ?? ['auto', 'faiss-flat', 'hnswlib'];
  for (const b of engineBackends) if (!/^[a-z][a-z0-9-]*$/.test(b)) throw new Error(`"${b}" in --engine-backends is not a backend name`);
  const withEngine = engineOnly || (values['no-engine'] ? false : (values.engine ?? mode === 'full'));
  const budget = values.budget === undefined ? d.budgetS : Number(values.budget);
  if (!(budget > 0)) throw new Error(`--budget must be a positive number of seconds, got "${values.budget}"`);
  const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, (c) => (c === 'T' ? '-' : ''));
  const maxBase = positiveInt('max-base', values['max-base']);
  const variants = list(values.data);
  for (const v of variants ?? []) if (!(DATA_VARIANTS as readonly string[]).includes(v)) throw new Error(`unknown data set "${v}" in --data; choose from ${DATA_VARIANTS.join(', ')}`);
  return {
    mode,
    sizes,
    files: values.dataset ?? [],
    ...(variants ? { variants: variants as DataVariant[] } : {}),
    ...(maxBase ? { maxBase } : {}),
    ...(backends ? { backends: backends as BenchBackend[] } : {}),
    queries: positiveInt('queries', values.queries) ?? d.queries,
    reps: positiveInt('reps', values.reps) ?? d.reps,
    budgetS: budget,
    overhead: values['no-overhead'] ? 'off' : values.overhead ? 'on' : d.overhead,
    seed: positiveInt('seed', values.seed) ?? 1,
    dataDir: path.resolve(values['data-dir'] ?? process.env.PIXSEARCH_BENCH_DATA ?? DEFAULT_DATA_DIR),
    outDir: path.resolve(values.out ?? path.join(packageDir, 'results', `${stamp}-${mode}`)),
    command: ['pnpm bench', ...argv].join(' '),
    keepIndexes: values['keep-indexes'] ?? false,
    resume: values.resume ?? false,
    ...(withEngine
      ? { engine: { n: parseSize(values['engine-size'] ?? '100k'), backends: engineBackends as BenchBackend[], queries: positiveInt('engine-queries', values['engine-queries']) ?? 200, k: 30 } }
      : {}),
  };
}

async function main(): Promise<void> {
  let opts: SuiteOptions | 'help';
  try {
    opts = parseCli(process.argv.slice(2));
  } catch (err) {
    console.error(`pnpm bench: ${err instanceof Error ? err.message : String(err)}\n\n${HELP}`);
    process.exit(2);
  }
  if (opts === 'help') {
    console.log(HELP);
    return;
  }
  const report = await runSuite(opts);
  const files = await writeReport(report, opts.outDir);
  console.log('\nTargets (goals, not assertions):');
  for (const t of report.targets) console.log(`  [${t.status === 'pass' ? 'PASS' : t.status === 'fail' ? 'FAIL' : ' -- '}] ${t.name}: ${t.detail}`);
  const failed = report.datasets.flatMap((d) => d.configs.flatMap((c) => c.failures));
  console.log(`\nreport: ${path.relative(process.cwd(), files.markdown)}\n        ${path.relative(process.cwd(), files.json)}`);
  for (const p of files.plots) console.log(`        ${path.relative(process.cwd(), p)}`);
  if (failed.length) {
    console.log(`\n${failed.length} job(s) failed; see the report.`);
    process.exitCode = 1;
  }
}

const invoked = process.argv[1] ? path.resolve(process.argv[1]) : '';
if (invoked === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  });
}
