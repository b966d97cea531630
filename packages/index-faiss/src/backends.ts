// The BackendFactory objects this package registers with core's registry on import.
import type { FileBackendFactory } from '@pixsearch/core';
import { faissLibrary } from './faiss-native.js';
import { FaissFlatIndex, FLAT_CAPABILITIES } from './flat-index.js';
import { FaissIvfIndex, IVF_CAPABILITIES } from './ivf-index.js';
import { DEFAULT_TRAIN_AT } from './ivf-params.js';

/** faiss-flat: exact search; the ground truth for recall. */
export const faissFlatBackend: FileBackendFactory = {
  name: 'faiss-flat',
  persistence: 'files',
  description: 'FAISS exact search (IndexFlatIP/L2): exact top-k, the recall reference',
  get library() {
    return faissLibrary();
  },
  capabilities: FLAT_CAPABILITIES,
  buildParams: [],
  create: async (options) => FaissFlatIndex.create(options),
  load: (dir, manifest) => FaissFlatIndex.load(dir, manifest),
};

/** faiss-ivf: IVF{nlist},Flat with per-search nprobe. */
export const faissIvfBackend: FileBackendFactory = {
  name: 'faiss-ivf',
  persistence: 'files',
  description: 'FAISS inverted file (IVF{nlist},Flat): approximate, trains k-means once enough vectors arrive',
  get library() {
    return faissLibrary();
  },
  capabilities: IVF_CAPABILITIES,
  buildParams: [
    { name: 'nlist', type: 'integer', min: 1, max: 1 << 20, values: ['auto'], default: 'auto', description: 'inverted lists (k-means centroids); auto: min(4·√N, sample/39)' },
    { name: 'nprobe', type: 'integer', min: 1, max: 1 << 20, values: ['auto'], default: 'auto', description: 'lists probed per query by default' },
    { name: 'trainAt', type: 'integer', min: 1, default: DEFAULT_TRAIN_AT, description: 'buffered vectors that trigger training during add' },
  ],
  create: async (options) => FaissIvfIndex.create(options),
  load: (dir, manifest) => FaissIvfIndex.load(dir, manifest),
};
