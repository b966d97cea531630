// Child process of bench/load.ts: serves one seeded library and reports event-loop delay over IPC.
// argv: <dataDir> <model folder> <searchConcurrency>
import { monitorEventLoopDelay } from 'node:perf_hooks';
import '@pixsearch/index-faiss';
import { SearchEngine } from '@pixsearch/core/engine';
import { startServer } from '../src/index.js';

const [dataDir, model, concurrency] = process.argv.slice(2);
if (!dataDir || !model || !process.send) throw new Error('usage: load-server.ts <dataDir> <model> <searchConcurrency> (forked with IPC)');

const engine = await SearchEngine.open({ dataDir, model });
const server = await startServer({ engine, port: 0, searchConcurrency: Number(concurrency ?? 1) });
// Load the text tower before measuring.
await fetch(`${server.url}/api/search?q=warm%20up&k=1`).then((r) => r.arrayBuffer());
const loop = monitorEventLoopDelay({ resolution: 5 });
loop.enable();
const stats = await engine.stats();

process.on('message', async (msg: { type: string }) => {
  if (msg.type === 'reset') {
    loop.reset();
    process.send!({ type: 'reset-done' });
  } else if (msg.type === 'loop') {
    process.send!({ type: 'loop', p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 });
  } else if (msg.type === 'stop') {
    loop.disable();
    await server.close();
    await engine.close();
    process.exit(0);
  }
});
process.send({ type: 'ready', url: server.url, indexSize: stats.indexSize, model: stats.model, dimension: stats.dimension, backend: stats.backend });
