// Child process of bench/load.ts: serves one seeded library and reports, over IPC, what the
// server spent per run: event-loop delay (p50/p99/max), process CPU time (all threads: HTTP,
// the text tower's worker, the index's shard workers), main-thread busy time (event-loop
// utilization), and the engine's per-query stage times (embed = queue + text tower, search =
// queue + index scan, catalog = row fetch + filters).
// argv: <dataDir> <model folder> <searchConcurrency> <text-tower threads ('default', or 0 = one per core)>
//       <backend, e.g. auto or exact/quantization=i8 (the index is rebuilt from the catalog when it changes)>
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import '@pixsearch/index-faiss';
import '@pixsearch/index-hnsw';
import { ClipEmbedder } from '@pixsearch/core/clip';
import { SearchEngine, type SearchResponse } from '@pixsearch/core/engine';
import { startServer } from '../src/index.js';

const [dataDir, model, concurrency, textThreads = 'default', backendArg = 'auto'] = process.argv.slice(2);
const [backend, ...paramPairs] = backendArg.split('/');
const backendParams = Object.fromEntries(
  paramPairs.map((p) => {
    const [k, v = ''] = p.split('=');
    return [k, /^\d+$/.test(v) ? Number(v) : v];
  }),
);
if (!dataDir || !model || !process.send) throw new Error('usage: load-server.ts <dataDir> <model> <searchConcurrency> <textThreads> (forked with IPC)');

// CPU time per OS thread (Linux /proc), grouped by when the thread appeared: `boot` (the main
// thread, V8's helpers, libuv's and libvips' pools, started here on purpose before the engine),
// `open` (the index's shard workers, the image-decode worker), `first-search` (the text tower's
// session worker and onnxruntime's threads).
const tick = 1000 / 100; // ms per clock tick (USER_HZ is 100 on Linux)
const phaseOf = new Map<string, string>();
function threadCpuMs(): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[] = [];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out; // not Linux
  }
  for (const tid of tids) {
    try {
      const f = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const fields = f.slice(f.lastIndexOf(')') + 2).split(' ');
      out.set(tid, (Number(fields[11]) + Number(fields[12])) * tick); // utime + stime
    } catch {
      // the thread ended
    }
  }
  return out;
}
function markPhase(phase: string): void {
  for (const tid of threadCpuMs().keys()) if (!phaseOf.has(tid)) phaseOf.set(tid, phase);
}
function cpuByPhase(since: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [tid, ms] of threadCpuMs()) {
    const phase = phaseOf.get(tid) ?? 'later';
    out[phase] = (out[phase] ?? 0) + ms - (since.get(tid) ?? 0);
  }
  return out;
}
// Start libuv's and libvips' thread pools now, so that they count as `boot`.
await Promise.all(Array.from({ length: 8 }, () => readFile(process.execPath, { encoding: null, flag: 'r' }).then(() => undefined, () => undefined)));
await sharp({ create: { width: 64, height: 64, channels: 3, background: '#888' } }).webp().toBuffer();
markPhase('boot');

// Another text-tower thread count than the default: an embedder of our own (the engine leaves it open).
const embedder = textThreads === 'default' ? undefined : await ClipEmbedder.create({ model, textThreads: Number(textThreads) });

const engine = await SearchEngine.open({ dataDir, model, backend, backendParams, ...(embedder ? { embedder } : {}) });
markPhase('open');

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
markPhase('first-search');
const loop = monitorEventLoopDelay({ resolution: 1 });
loop.enable();
const stats = await engine.stats();
let cpu0 = process.cpuUsage();
let threads0 = threadCpuMs();
let elu0: EventLoopUtilization = performance.eventLoopUtilization();

process.on('message', async (msg: { type: string }) => {
  if (msg.type === 'reset') {
    loop.reset();
    cpu0 = process.cpuUsage();
    elu0 = performance.eventLoopUtilization();
    Object.assign(stages, { n: 0, embed: 0, search: 0, catalog: 0, total: 0 });
    threads0 = threadCpuMs();
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
      threadCpuMs: cpuByPhase(threads0),
    });
  } else if (msg.type === 'stop') {
    loop.disable();
    await server.close();
    await engine.close();
    await embedder?.close();
    process.exit(0);
  }
});
process.send({ type: 'ready', url: server.url, indexSize: stats.indexSize, model: stats.model, dimension: stats.dimension, backend: stats.backend });
