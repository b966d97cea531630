// Seeds a pixsearch data directory with N synthetic embeddings (clustered random unit vectors),
// for measuring `pixsearch search` on a large library without embedding N real images.
// It writes the catalog through the engine's own SqliteCatalog (the rows look like indexed images
// under a fake root), then opens the SearchEngine once so it builds and saves the vector index.
//
//   node --conditions=@pixsearch/source --import tsx packages/cli/bench/seed-library.ts \
//     --data-dir /tmp/px-100k --model /tmp/models/tiny [--count 100000] [--backend faiss-flat]
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ClipEmbedder } from '@pixsearch/core/clip';
import { CATALOG_FILE, SearchEngine, SqliteCatalog, type CatalogOp } from '@pixsearch/core/engine';

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

let state = Number(values.seed) >>> 0 || 1;
const rand = (): number => {
  // xorshift32 → [0, 1)
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
};
const gauss = (): number => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());

// 256 cluster centres; each vector = centre + noise, L2-normalised (CLIP embeddings cluster too).
const centres = Array.from({ length: 256 }, () => Float32Array.from({ length: dimension }, gauss));
function vector(): Float32Array {
  const c = centres[Math.floor(rand() * centres.length)]!;
  const v = new Float32Array(dimension);
  let n = 0;
  for (let j = 0; j < dimension; j++) {
    v[j] = c[j]! + 0.8 * gauss();
    n += v[j]! * v[j]!;
  }
  n = Math.sqrt(n);
  for (let j = 0; j < dimension; j++) v[j]! /= n;
  return v;
}

mkdirSync(dataDir, { recursive: true });
const t0 = performance.now();
const catalog = SqliteCatalog.open(join(dataDir, CATALOG_FILE));
try {
  catalog.updateSettings({ modelId, modelSource: model, dimension, backend, backendParams: {} });
  const rootId = catalog.addRoot(join(dataDir, 'synthetic-library'));
  const batch = 5000;
  for (let start = 0; start < count; start += batch) {
    const ops: CatalogOp[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      ops.push({
        op: 'insert',
        row: {
          rootId,
          relPath: `album-${String(i % 1000).padStart(4, '0')}/img-${String(i).padStart(7, '0')}.jpg`,
          size: 100_000 + i,
          mtimeMs: 1_700_000_000_000 + i,
          hash: `synthetic-${i}`,
          width: 640,
          height: 480,
          format: 'jpeg',
          status: 'indexed',
          reason: null,
          message: null,
          embedding: vector(),
        },
      });
    }
    catalog.write(ops);
  }
  catalog.updateSettings({ lastSync: new Date().toISOString() });
} finally {
  catalog.close();
}
const t1 = performance.now();
// Opening the engine builds the index from the stored embeddings and saves it.
const engine = await SearchEngine.open({ dataDir, backend });
engine.on('warning', (m) => console.error(`engine: ${m}`));
const stats = await engine.stats();
await engine.close();
console.log(
  `seeded ${count} × ${dimension}-d embeddings (model ${modelId}) into ${dataDir}: catalog ${((t1 - t0) / 1000).toFixed(1)} s, index ${((performance.now() - t1) / 1000).toFixed(1)} s; index holds ${stats.indexSize} vectors, ${(stats.dataDirBytes / 1048576).toFixed(0)} MB on disk`,
);
