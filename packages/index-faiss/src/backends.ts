// The BackendFactory objects core's registry picks up from this package's `backends` export.
import type { BackendFactory } from '@pixsearch/core';
import { faissLibrary } from './faiss-native.js';
import { FaissFlatIndex } from './flat-index.js';
import { FaissIvfIndex } from './ivf-index.js';

/** faiss-flat: exact search; the ground truth for recall. */
export const faissFlatBackend: BackendFactory = {
  name: 'faiss-flat',
  get library() {
    return faissLibrary();
  },
  create: async (options) => FaissFlatIndex.create(options),
  load: (dir, manifest) => FaissFlatIndex.load(dir, manifest),
};

/** faiss-ivf: IVF{nlist},Flat with per-search nprobe. */
export const faissIvfBackend: BackendFactory = {
  name: 'faiss-ivf',
  get library() {
    return faissLibrary();
  },
  create: async (options) => FaissIvfIndex.create(options),
  load: (dir, manifest) => FaissIvfIndex.load(dir, manifest),
};
