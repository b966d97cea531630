import { createIndex } from '@pixsearch/core';
import { describeVectorIndexConformance } from '@pixsearch/core/testing';
// Importing the package registers its backends (from sources under vitest). The by-name import
// core does for applications is exercised in registry.test.ts.
import '../src/index.js';

describeVectorIndexConformance({
  name: 'faiss-flat',
  create: (o) => createIndex({ backend: 'faiss-flat', ...o }),
});

describeVectorIndexConformance({
  name: 'faiss-ivf',
  create: (o) => createIndex({ backend: 'faiss-ivf', ...o }),
  reference: (dimension) => createIndex({ backend: 'faiss-flat', dimension, metric: 'cosine' }),
});
