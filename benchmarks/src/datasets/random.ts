/** Seeded pseudo-random sources for the synthetic datasets (deterministic across platforms). */
import { gaussian, mulberry32 } from '@pixsearch/core/datasets';

/** Mixes a seed and a stream number into a 32-bit seed (splitmix-style), so streams are independent. */
export function deriveSeed(seed: number, stream: number): number {
  let z = (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(stream + 0x7f4a7c15, 0x85ebca6b)) >>> 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
  return (z ^ (z >>> 16)) >>> 0;
}

/** A seeded PRNG (mulberry32, shared with core's datasets): uniform floats in [0, 1). */
export const uniform: (seed: number) => () => number = mulberry32;

/** Standard normal samples: core's Box–Muller {@link gaussian} on {@link uniform} (both values of each pair are used). */
export function normal(seed: number): () => number {
  return gaussian(uniform(seed));
}
