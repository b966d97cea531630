/**
 * End-to-end text query through the pixsearch engine (`@pixsearch/core/engine`) with the
 * generated full-size ViT-B/32 bundle (seeded random weights, real architecture and sizes) over
 * a library of `n` images: p50/p99 of tokenize, text tower, vector search, catalog lookup and total.
 *
 * Embedding 100k real images through the vision tower would take hours on 2 cores and measures
 * something else (indexing), so the library is made directly in the catalog: `n` rows with the
 * synthetic CLIP-like vectors as their stored embeddings. Opening the engine then builds the
 * index from those embeddings exactly as it does after a sync.
 *
 * Split: the engine reports `embed` (tokenize + text tower), `search` and `catalog` per query;
 * tokenize is timed by running the bundle's own tokenizer on the same text just before, and the
 * text tower is `embed − tokenize`.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Embedder } from '@pixsearch/core';
import { summarizeLatencies, type LatencySummary } from '../metrics.js';
import { loadDataset } from '../datasets/store.js';

/** Per-stage latency summaries, milliseconds. */
export interface EngineQueryResult {
  backend: string;
  images: number;
  queries: number;
  k: number;
  model: string;
  /** ONNX Runtime intra-op threads (engine default: all cores). */
  threads: string;
  bundleBytes: number;
  /** Generating the bundle (0 when cached), ms. */
  generateMs: number;
  /** Writing the catalog rows (0 when cached), ms. */
  catalogWriteMs: number;
  /** `SearchEngine.open` including the index build from stored embeddings (first open), ms. */
  openMs: number;
  /** The first query (loads the text tower), ms. */
  firstQueryMs: number;
  stages: { tokenize: LatencySummary; textTower: LatencySummary; search: LatencySummary; catalog: LatencySummary; total: LatencySummary };
  peakRssBytes: number;
  /** Set by the runner: the CPU and the load average before and after this backend's run. */
  cpu?: string;
  loadAverage?: number[];
  loadAverageEnd?: number[];
}

/** Varied, unique English queries (no two alike, so no cache can help). */
export function queryTexts(count: number): string[] {
  const subjects = ['a dog', 'two cats', 'a red bicycle', 'an old man', 'children', 'a sailboat', 'a bowl of ramen', 'a mountain lake', 'a city street', 'a wedding cake', 'a black horse', 'a lighthouse'];
  const actions = ['sitting on', 'running across', 'next to', 'in front of', 'under', 'covered in', 'reflected in', 'far away from'];
  const places = ['a wooden bench', 'the beach at sunset', 'fresh snow', 'a crowded market', 'a foggy forest', 'the kitchen table', 'a neon sign', 'a rainy window'];
  const styles = ['', ', black and white photo', ', taken from above', ', blurry', ', at night', ', in autumn'];
  const out: string[] = [];
  for (let i = 0; out.length < count; i++) {
    const s = subjects[i % subjects.length]!;
    const a = actions[Math.floor(i / subjects.length) % actions.length]!;
    const p = places[Math.floor(i / (subjects.length * actions.length)) % places.length]!;
    const st = styles[Math.floor(i / (subjects.length * actions.length * places.length)) % styles.length]!;
    out.push(`${s} ${a} ${p}${st}`);
  }
  return out;
}

function dirBytes(dir: string): number {
  let total = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    total += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return total;
}

/** Options of {@link runEngineQuery}. */
export interface EngineQueryOptions {
  /** Synthetic dataset folder whose base vectors become the library's embeddings. */
  datasetDir: string;
  /** Where the bundle is generated (cached). */
  bundleDir: string;
  /** Where the library lives (rebuilt when absent or for another dataset). */
  libraryDir: string;
  backend: string;
  queries: number;
  k: number;
  log: (line: string) => void;
  /** Bundle preset (default `vit-b-32`; tests use `tiny`). */
  preset?: 'vit-b-32' | 'tiny';
}

/** Runs the end-to-end measurement (in a worker process). */
export async function runEngineQuery(opts: EngineQueryOptions): Promise<EngineQueryResult> {
  const { generateBundle } = await import('@pixsearch/core/model-generator');
  const { ClipEmbedder, ClipTokenizer } = await import('@pixsearch/core/clip');
  const { SearchEngine } = await import('@pixsearch/core/engine');
  const { writeSyntheticLibrary } = await import('@pixsearch/core/testing');

  let generateMs = 0;
  if (!existsSync(path.join(opts.bundleDir, 'config.json'))) {
    const preset = opts.preset ?? 'vit-b-32';
    opts.log(`  generating the ${preset} bundle in ${opts.bundleDir}`);
    const t = performance.now();
    await generateBundle({ preset, out: opts.bundleDir });
    generateMs = performance.now() - t;
  }
  const bundleBytes = dirBytes(opts.bundleDir);

  const ds = loadDataset(opts.datasetDir);
  const d = ds.info.dimension;
  const n = ds.info.n;
  // The embedder decides the model id the catalog must carry.
  const embedder: Embedder = await ClipEmbedder.create({ model: opts.bundleDir });
  if (embedder.dimension !== d) throw new Error(`the bundle embeds to ${embedder.dimension}-d but the dataset is ${d}-d`);

  const stamp = path.join(opts.libraryDir, 'dataset.json');
  const want = JSON.stringify({ dataset: ds.info.name, modelId: embedder.modelId, backend: opts.backend });
  let catalogWriteMs = 0;
  if (!existsSync(stamp) || readFileSync(stamp, 'utf8') !== want) {
    opts.log(`  writing ${n.toLocaleString('en-US')} catalog rows with stored embeddings`);
    rmSync(opts.libraryDir, { recursive: true, force: true });
    mkdirSync(opts.libraryDir, { recursive: true });
    const t = performance.now();
    await writeSyntheticLibrary({
      dataDir: opts.libraryDir,
      vectors: ds.base,
      dimension: d,
      modelId: embedder.modelId,
      modelSource: opts.bundleDir,
      backend: opts.backend,
      hash: () => randomBytes(16).toString('hex'),
    });
    catalogWriteMs = performance.now() - t;
    writeFileSync(stamp, want);
  }

  const t0 = performance.now();
  const engine = await SearchEngine.open({ dataDir: opts.libraryDir, model: opts.bundleDir, backend: opts.backend, embedder });
  const openMs = performance.now() - t0;
  opts.log(`  engine open (index from ${n.toLocaleString('en-US')} stored embeddings): ${(openMs / 1000).toFixed(1)} s`);
  const tokenizer = ClipTokenizer.fromTokenizerJson(JSON.parse(readFileSync(path.join(opts.bundleDir, 'tokenizer.json'), 'utf8')));
  const texts = queryTexts(opts.queries + 1);
  try {
    const t1 = performance.now();
    await engine.search(texts[0]!, { k: opts.k, threshold: -1 });
    const firstQueryMs = performance.now() - t1;
    const tok: number[] = [];
    const tower: number[] = [];
    const search: number[] = [];
    const cat: number[] = [];
    const total: number[] = [];
    for (let i = 1; i <= opts.queries; i++) {
      const text = texts[i]!;
      const t = performance.now();
      tokenizer.tokenize([text]);
      const tokMs = performance.now() - t;
      const res = await engine.search(text, { k: opts.k, threshold: -1 });
      if (res.results.length !== opts.k) throw new Error(`query "${text}" returned ${res.results.length} results, expected ${opts.k}`);
      tok.push(tokMs);
      tower.push(Math.max(0, res.timings.embed - tokMs));
      search.push(res.timings.search);
      cat.push(res.timings.catalog);
      total.push(res.timings.total);
    }
    return {
      backend: opts.backend,
      images: n,
      queries: opts.queries,
      k: opts.k,
      model: embedder.modelId,
      threads: 'onnxruntime default (all cores)',
      bundleBytes,
      generateMs,
      catalogWriteMs,
      openMs,
      firstQueryMs,
      stages: {
        tokenize: summarizeLatencies(tok),
        textTower: summarizeLatencies(tower),
        search: summarizeLatencies(search),
        catalog: summarizeLatencies(cat),
        total: summarizeLatencies(total),
      },
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  } finally {
    await engine.close();
    await embedder.close();
  }
}
