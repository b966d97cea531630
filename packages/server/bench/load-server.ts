// Child process of bench/load.ts: serves one seeded library and reports, over IPC, what the
// server spent per run: event-loop delay (p50/p99/max), process CPU time (all threads: HTTP,
// the text tower's worker, the index's shard workers), main-thread busy time (event-loop
// utilization), and the engine's per-query stage times (embed = queue + text tower, search =
// queue + index scan, catalog = row fetch + filters).
// argv: <dataDir> <model folder> <searchConcurrency> <threads (0 = the engine's default)>
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import '@pixsearch/index-faiss';
import '@pixsearch/index-hnsw';
import { SearchEngine, type SearchResponse } from '@pixsearch/core/engine';
import { startServer } from '../src/index.js';

const [dataDir, model, concurrency, threads] = process.argv.slice(2);
if (!dataDir || !model || !process.send) throw new Error('usage: load-server.ts <dataDir> <model> <searchConcurrency> <threads> (forked with IPC)');

const engine = await SearchEngine.open({ dataDir, model, ...(Number(threads) > 0 ? { threads: Number(threads) } : {}) });

/** Sums of the engine's stage timings (ms) over the searches since the last reset. */
const stages = { n: 0, embed: 0, search: 0, catalog: 0, total: 0 };
const search = engine.search.bind(engine);
// The server sees the engine through this wrapper: searches are timed, everything else passes through.
const timed = new Proxy(engine, {
  get(target, prop) {
    if (prop === 'search') {
      return async (...args: Parameters<typeof search>): Promise<SearchResponse> => {
        const res = await search(...args);
        const t = res.timings;
        stages.n++;
        stages.embed += t.embed ?? 0;
        stages.search += t.search ?? 0;
        stages.catalog += t.catalog ?? 0;
        stages.total += t.total;
        return res;
      };
    }
    const v: unknown = Reflect.get(target, prop, target);
    return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
  },
});

const server = await startServer({ engine: timed, port: 0, searchConcurrency: Number(concurrency ?? 1) });
// Load the text tower before measuring.
await fetch(`${server.url}/api/search?q=warm%20up&k=1`).then((r) => r.arrayBuffer());
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const stats = await engine.stats();
let cpu0 = process.cpuUsage();
let elu0: EventLoopUtilization = performance.eventLoopUtilization();

process.on('message', async (msg: { type: string }) => {
  if (msg.type === 'reset') {
    loop.reset();
    cpu0 = process.cpuUsage();
    elu0 = performance.eventLoopUtilization();
    Object.assign(stages, { n: 0, embed: 0, search: 0, catalog: 0, total: 0 });
    process.send!({ type: 'reset-done' });
  } else if (msg.type === 'report') {
    const cpu = process.cpuUsage(cpu0);
    const elu = performance.eventLoopUtilization(elu0);
    process.send!({
      type: 'report',
      loop: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
      cpuMs: (cpu.user + cpu.system) / 1000,
      mainThreadBusyMs: elu.active,
      stages: { ...stages },
    });
  } else if (msg.type === 'stop') {
    loop.disable();
    await server.close();
    await engine.close();
    process.exit(0);
  }
});
process.send({ type: 'ready', url: server.url, indexSize: stats.indexSize, model: stats.model, dimension: stats.dimension, backend: stats.backend });
