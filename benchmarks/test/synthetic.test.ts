import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { exactGroundTruth } from '../src/ground-truth.js';
import { CHUNK_ROWS, generateSynthetic, syntheticSet } from '../src/datasets/synthetic.js';
import { ensureSynthetic, formatSize, loadDataset, parseSize, readInfo } from '../src/datasets/store.js';

const dir = mkdtempSync(path.join(os.tmpdir(), 'pixsearch-syn-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const d = 64;
const spec = { n: 3000, queries: 100, dimension: d, seed: 7 };

/** Byte equality (vitest's deep equality is slow on large typed arrays). */
function same(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

function dot(a: Float32Array, i: number, b: Float32Array, j: number): number {
  let s = 0;
  for (let k = 0; k < d; k++) s += a[i * d + k]! * b[j * d + k]!;
  return s;
}

describe('synthetic CLIP-like data', () => {
  const base = syntheticSet(spec, 'base');
  const queries = syntheticSet(spec, 'queries');

  it('is deterministic per seed and differs across seeds', () => {
    expect(same(syntheticSet(spec, 'base'), base)).toBe(true);
    const other = syntheticSet({ ...spec, seed: 8 }, 'base');
    expect(same(other, base)).toBe(false);
  });

  it('yields L2-normalised rows', () => {
    for (let r = 0; r < spec.n; r += 97) expect(dot(base, r, base, r)).toBeCloseTo(1, 5);
  });

  it('draws queries from the same mixture but never from the base set', () => {
    const gt = exactGroundTruth(base, queries, d, 10);
    for (let q = 0; q < spec.queries; q++) {
      // No query is a copy of a base vector…
      expect(gt.scores[q * 10]!).toBeLessThan(0.9999);
    }
    // …yet each has close neighbours (same clusters): clustered, not uniform noise.
    let top1 = 0;
    let random = 0;
    for (let q = 0; q < spec.queries; q++) {
      top1 += gt.scores[q * 10]!;
      random += dot(queries, q, base, (q * 131) % spec.n);
    }
    top1 /= spec.queries;
    random /= spec.queries;
    expect(top1).toBeGreaterThan(0.8);
    // A shared mean direction, as in CLIP: unrelated pairs are positively correlated…
    expect(random).toBeGreaterThan(0.2);
    // …but far less than neighbours.
    expect(top1 - random).toBeGreaterThan(0.25);
  });

  it('streams the same bytes chunk by chunk', () => {
    const big = { ...spec, n: CHUNK_ROWS + 10 };
    const whole = syntheticSet(big, 'base');
    const firsts: number[] = [];
    generateSynthetic(big, 'base', (chunk, first) => {
      firsts.push(first);
      expect(same(chunk, whole.subarray(first * d, first * d + chunk.length))).toBe(true);
    });
    expect(firsts).toEqual([0, CHUNK_ROWS]);
  });

  it('is cached on disk once, atomically', () => {
    const a = ensureSynthetic(dir, 2000, 20, 3, d);
    const info = readInfo(a)!;
    expect(info).toMatchObject({ n: 2000, nq: 20, dimension: d, metric: 'cosine' });
    const bytes = readFileSync(path.join(a, 'base.f32'));
    expect(bytes.length).toBe(2000 * d * 4);
    expect(ensureSynthetic(dir, 2000, 20, 3, d)).toBe(a);
    const ds = loadDataset(a);
    expect(same(ds.base, syntheticSet({ n: 2000, queries: 20, dimension: d, seed: 3 }, 'base'))).toBe(true);
  });

  it('makes text-like queries across the modality gap and a harder, less separable variant', () => {
    const D = 512;
    const s512 = { n: 3000, queries: 100, seed: 7 };
    const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const top = (b: Float32Array, q: Float32Array): { top1: number; random: number } => {
      const gt = exactGroundTruth(b, q, D, 10);
      const top1: number[] = [];
      const random: number[] = [];
      for (let i = 0; i < s512.queries; i++) {
        top1.push(gt.scores[i * 10]!);
        let x = 0;
        const j = (i * 131) % s512.n;
        for (let k = 0; k < D; k++) x += q[i * D + k]! * b[j * D + k]!;
        random.push(x);
      }
      return { top1: mean(top1), random: mean(random) };
    };
    const base = syntheticSet(s512, 'base');
    const image = top(base, syntheticSet(s512, 'queries'));
    const text = top(base, syntheticSet(s512, 'queries', 'text-like'));
    // CLIP ViT-B/32: matching text–image cosines ≈ 0.2–0.35, unrelated ≈ 0.1–0.2; image neighbours ≈ 0.9.
    expect(text.top1).toBeGreaterThan(0.2);
    expect(text.top1).toBeLessThan(0.45);
    expect(text.random).toBeLessThan(0.2);
    expect(image.top1 - text.top1).toBeGreaterThan(0.4);
    // The hard mixture: neighbours less distinct from unrelated images than in the standard one.
    const hardBase = syntheticSet({ ...s512, variant: 'hard' }, 'base');
    const hard = top(hardBase, syntheticSet({ ...s512, variant: 'hard' }, 'queries'));
    expect(hard.top1 - hard.random).toBeLessThan(image.top1 - image.random);
    // Variants are cached under their own names.
    expect(path.basename(ensureSynthetic(dir, 500, 10, 3, d, 'text'))).toContain('-text-');
    expect(readInfo(ensureSynthetic(dir, 500, 10, 3, d, 'hard'))!.dataVariant).toBe('hard');
  });

  it('parses and formats sizes', () => {
    expect(parseSize('10k')).toBe(10_000);
    expect(parseSize('1M')).toBe(1_000_000);
    expect(parseSize('2500')).toBe(2500);
    expect(() => parseSize('ten')).toThrow(/cannot read size/);
    expect(formatSize(100_000)).toBe('100k');
    expect(formatSize(1_000_000)).toBe('1m');
  });
});
