// Lazy access to the faiss-node binding. Nothing here calls into FAISS on import: the binding
// loads on the first index creation, so a broken native build surfaces as a typed error.
import { createRequire } from 'node:module';
import { DependencyMissingError } from '@pixsearch/core';
import type * as FaissNode from 'faiss-node';

/** The faiss-node module object. */
export type FaissModule = typeof FaissNode;
/** One native FAISS index (flat or IVF). Its memory is freed when the JS wrapper is garbage-collected. */
export type NativeIndex = FaissNode.Index;

/** faiss `MetricType` values (faiss/MetricType.h). */
export const METRIC_INNER_PRODUCT = 0;
export const METRIC_L2 = 1;

const require = createRequire(import.meta.url);
let faiss: FaissModule | undefined;
let version: string | undefined;

/** Loads faiss-node once; throws `DependencyMissingError` when the binding cannot load. */
export function loadFaiss(): FaissModule {
  if (faiss) return faiss;
  try {
    faiss = require('faiss-node') as FaissModule;
  } catch (cause) {
    throw new DependencyMissingError('faiss-node', 'the FAISS backends', {
      cause,
      hint: 'rebuild the binding: node scripts/build-faiss-node.mjs (needs libfaiss-dev, libopenblas-dev, patchelf)',
    });
  }
  return faiss;
}

/** `faiss-node@<version>`, recorded in manifests as the library that wrote the data files. */
export function faissLibrary(): string {
  if (version === undefined) {
    try {
      version = (require('faiss-node/package.json') as { version: string }).version;
    } catch {
      version = 'unknown';
    }
  }
  return `faiss-node@${version}`;
}
