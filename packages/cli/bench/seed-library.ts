// Seeds a pixsearch data directory with N synthetic embeddings (clustered random unit vectors),
// for measuring `pixsearch search` on a large library without embedding N real images.
// It writes the catalog with core's writeSyntheticLibrary (the rows look like indexed images
// under an empty root), then opens the SearchEngine once so it builds and saves the vector index.
//
//   node --conditions=@pixsearch/source --import tsx packages/cli/bench/seed-library.ts \
//     --data-dir /tmp/px-100k --model /tmp/models/tiny [--count 100000] [--backend faiss-flat]
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ClipEmbedder } from '@pixsearch/core/clip';
import { SearchEngine } from '@pixsearch/core/engine';
import { clusteredDataset, writeSyntheticLibrary } from '@pixsearch/core/testing';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    model: { type: 'string' },
    count: { type: 'string', default: '100000' },
    backend: { type: 'string', default: 'faiss-flat' },
    seed: { type: 'string', default: '1' },
  },
});
if (!values['data-dir'] || !values.model) {
  console.error('usage: seed-library.ts --data-dir <dir> --model <bundle folder> [--count N] [--backend faiss-flat]');
  process.exit(2);
}
const dataDir = resolve(values['data-dir']);
const model = resolve(values.model);
const count = Number(values.count);
const backend = values.backend!;

// The model's identity and dimension, exactly as the engine records them (no tower is loaded).
const embedder = await ClipEmbedder.create({ model });
const { modelId, dimension } = embedder;
await embedder.close();

// Clustered unit vectors shaped like CLIP embeddings (core's seeded generator), written as an indexed library.
const t0 = performance.now();
const { base } = clusteredDataset(count, dimension, 0, Number(values.seed));
await writeSyntheticLibrary({ dataDir, vectors: base, dimension, modelId, modelSource: model, backend });
const t1 = performance.now();
// Opening the engine builds the index from the stored embeddings and saves it.
const engine = await SearchEngine.open({ dataDir, backend });
engine.on('warning', (m) => console.error(`engine: ${m}`));
const stats = await engine.stats();
await engine.close();
console.log(
  `seeded ${count} × ${dimension}-d embeddings (model ${modelId}) into ${dataDir}: catalog ${((t1 - t0) / 1000).toFixed(1)} s, index ${((performance.now() - t1) / 1000).toFixed(1)} s; index holds ${stats.indexSize} vectors, ${(stats.dataDirBytes / 1048576).toFixed(0)} MB on disk`,
);
