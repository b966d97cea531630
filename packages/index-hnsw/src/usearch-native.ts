import { createRequire } from 'node:module';
import path from 'node:path';
import { DependencyMissingError } from '@pixsearch/core';

/**
 * USearch's native index class (`javascript/lib.cpp`, `CompiledIndex`), used directly rather
 * than through the package's `Index` wrapper: the wrapper converts every input to Float32Array,
 * so i8 vectors would go through USearch's own float→i8 cast (L2-normalise, ×127, truncate),
 * which leaves 512-d unit vectors a few levels per axis (exact-search recall@10 ≈ 0.53 on
 * clustered data). The native class accepts Int8Array as is. Its methods check nothing, so the
 * adapter validates every argument before calling them.
 */
export interface UsearchCompiledIndex {
  /** `threads` 0 = all cores. Reserves capacity (sized for `threads` searchers) when needed. */
  add(keys: BigUint64Array, vectors: Float32Array | Int8Array, threads: number): void;
  /** Flat results: keys and distances are `queries × wanted`, counts is per query. */
  search(queries: Float32Array | Int8Array, wanted: number, threads: number): [BigUint64Array, Float32Array, BigUint64Array];
  contains(keys: BigUint64Array): boolean[];
  remove(keys: BigUint64Array): number[];
  dimensions(): number;
  connectivity(): number;
  size(): number;
  capacity(): number;
  save(path: string): void;
  load(path: string): void;
}

export interface UsearchAddon {
  CompiledIndex: new (
    dimensions: number,
    metric: 'cos' | 'l2sq',
    quantization: 'f32' | 'f16' | 'i8',
    connectivity: number,
    expansionAdd: number,
    expansionSearch: number,
    multi: boolean,
  ) => UsearchCompiledIndex;
  version(): string;
}

let cached: UsearchAddon | undefined;

/**
 * Where USearch's addon is: `node-gyp-build`'s entry (as USearch resolves it) and the package
 * root it loads the addon from. Worker threads load the addon from these paths themselves.
 */
export function usearchAddonPaths(): { nodeGypBuild: string; root: string } {
  const req = createRequire(import.meta.url);
  const entry = req.resolve('usearch'); // <root>/javascript/dist/cjs/usearch.js
  const root = path.resolve(path.dirname(entry), '..', '..', '..');
  return { nodeGypBuild: createRequire(entry).resolve('node-gyp-build'), root };
}

/** Loads USearch's addon the way its own wrapper does (node-gyp-build on the package root). */
export function loadUsearchAddon(): UsearchAddon {
  if (cached) return cached;
  let addon: UsearchAddon;
  try {
    const { nodeGypBuild, root } = usearchAddonPaths();
    const build = createRequire(nodeGypBuild)(nodeGypBuild) as (dir: string) => unknown;
    addon = build(root) as UsearchAddon;
  } catch (cause) {
    throw new DependencyMissingError('usearch', 'the "usearch" backend', { cause });
  }
  const proto = (addon.CompiledIndex as { prototype?: Record<string, unknown> } | undefined)?.prototype;
  const methods = ['add', 'search', 'contains', 'remove', 'size', 'capacity', 'dimensions', 'save', 'load'];
  if (typeof addon.version !== 'function' || !proto || methods.some((m) => typeof proto[m] !== 'function') || !addon.version().startsWith('2.')) {
    throw new DependencyMissingError('usearch', 'the "usearch" backend (an unsupported usearch build; 2.x is required)', {
      hint: 'install usearch 2.x: pnpm add usearch@^2.26',
    });
  }
  cached = addon;
  return addon;
}

/**
 * Quantises rows for an i8 index: each row is scaled so its largest |component| becomes 127
 * and rounded. Cosine ignores scale, so this keeps the most resolution an i8 code can hold.
 */
export function quantizeRowsI8(rows: Float32Array, dimension: number): Int8Array {
  const out = new Int8Array(rows.length);
  for (let off = 0; off < rows.length; off += dimension) {
    let max = 0;
    for (let j = 0; j < dimension; j++) max = Math.max(max, Math.abs(rows[off + j]!));
    if (max === 0) continue;
    const scale = 127 / max;
    for (let j = 0; j < dimension; j++) out[off + j] = Math.round(rows[off + j]! * scale);
  }
  return out;
}
