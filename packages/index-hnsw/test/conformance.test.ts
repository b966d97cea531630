import { createIndex } from '@pixsearch/core';
import { describeVectorIndexConformance } from '@pixsearch/core/testing';
// Importing the package registers its backends; faiss-flat (the reference) comes from discovery.
import '../src/index.js';
const reference = (dimension: number) => createIndex({ backend: 'faiss-flat', dimension });

describeVectorIndexConformance({
  name: 'hnswlib',
  create: (o) => createIndex({ backend: 'hnswlib', ...o }),
  reference,
});

describeVectorIndexConformance({
  name: 'usearch',
  create: (o) => createIndex({ backend: 'usearch', ...o }),
  reference,
});

// The i8 kind quantises rows in the adapter (see usearch-native.ts): run the whole suite on it.
describeVectorIndexConformance({
  name: 'usearch-i8',
  create: (o) => createIndex({ backend: 'usearch', ...o, params: { quantization: 'i8', ...o.params } }),
  reference,
  // i8 codes carry ~0.002 of cosine error (measured ≤ 0.0023 on 20k × 512 clustered vectors).
  scoreTolerance: 5e-3,
  // No l2 case: an i8 index declares metrics ['cosine'] (its codes keep only angles).
});

describeVectorIndexConformance({
  name: 'exact',
  create: (o) => createIndex({ backend: 'exact', ...o }),
  reference,
  minRecall: 1,
});

// i8 codes are scanned, the best k × 4 candidates re-ranked with the f32 rows.
describeVectorIndexConformance({
  name: 'exact-i8',
  create: (o) => createIndex({ backend: 'exact', ...o, params: { quantization: 'i8', ...o.params } }),
  reference,
  minRecall: 0.99,
  skip: { 'l2-metric': 'i8 codes keep only angles, so the exact i8 kind is cosine-only by design' },
});

// auto at its default threshold stays exact at these sizes…
describeVectorIndexConformance({
  name: 'auto',
  create: (o) => createIndex({ backend: 'auto', ...o }),
  reference,
  minRecall: 1,
  recallSize: { n: 5000, dimension: 256, queries: 100 }, // the exact suite above covers 20k × 512
});

// …and with a small one switches to HNSW (a USearch graph in a worker) inside the suite's adds.
describeVectorIndexConformance({
  name: 'auto-hnsw',
  create: (o) => createIndex({ backend: 'auto', ...o, params: { threshold: 50, ...o.params } }),
  reference,
  recallSize: { n: 5000, dimension: 256, queries: 100 }, // the usearch suite above covers 20k × 512
});
