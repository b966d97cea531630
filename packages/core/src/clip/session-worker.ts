// Runs one onnxruntime-node InferenceSession in a worker thread. onnxruntime-node's
// `session.run` executes synchronously on the calling thread (inside a setImmediate), so a batch
// of images would block the event loop for up to a second; in a worker the main thread stays free
// to serve requests and to decode the next batch while this one runs.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { DependencyMissingError, ModelBundleError, PixsearchError } from '../errors.js';

/** Declared input/output of a graph, as onnxruntime reports it. */
export interface ValueMeta {
  name: string;
  /** Element type: float32, float16, int64, … */
  type: string;
  /** Dimensions: numbers, or names for dynamic axes. */
  shape: (number | string)[];
}

/** A tensor crossing the thread boundary (its buffer is transferred, not copied). */
export interface WireTensor {
  type: 'float32' | 'float16' | 'int64';
  data: Float32Array | Uint16Array | BigInt64Array;
  dims: number[];
}

export interface SessionOptions {
  device: 'cpu' | 'cuda';
  /** Intra-op threads (0 = onnxruntime's default: one per core). */
  threads: number;
  /**
   * Whether onnxruntime's thread pools spin (busy-wait) for work between operators (its default:
   * true). Spinning threads take CPU from the image decoders running beside the session; off, they
   * sleep. Default true.
   */
  spinning?: boolean;
}

// Plain CommonJS worker source (eval'd) so it runs the same from TS sources and from dist.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
let ort;
let session;
function meta(list) {
  return list.map((m) => ({ name: m.name, type: m.type, shape: m.shape ?? [] }));
}
parentPort.on('message', async (msg) => {
  try {
    if (msg.type === 'load') {
      ort = require(workerData.ortPath);
      const opts = { graphOptimizationLevel: 'all', executionProviders: [msg.device] };
      if (msg.threads > 0) { opts.intraOpNumThreads = msg.threads; opts.interOpNumThreads = 1; }
      // Session config entries (onnxruntime_session_options_config_keys.h), flattened by the binding.
      if (msg.spinning === false) opts.extra = { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } };
      session = await ort.InferenceSession.create(msg.path, opts);
      parentPort.postMessage({ id: msg.id, ok: true, inputs: meta(session.inputMetadata), outputs: meta(session.outputMetadata) });
    } else if (msg.type === 'run') {
      const feeds = {};
      for (const [name, t] of Object.entries(msg.feeds)) feeds[name] = new ort.Tensor(t.type, t.data, t.dims);
      const result = await session.run(feeds, [msg.output]);
      const out = result[msg.output];
      const data = out.data;
      parentPort.postMessage({ id: msg.id, ok: true, tensor: { type: out.type, data, dims: out.dims } }, [data.buffer]);
    } else if (msg.type === 'release') {
      if (session) await session.release();
      session = undefined;
      parentPort.postMessage({ id: msg.id, ok: true });
    }
  } catch (err) {
    parentPort.postMessage({ id: msg.id, ok: false, error: { message: String(err && err.message || err), name: err && err.name } });
  }
});
`;

let ortPath: string | undefined;
function resolveOrt(): string {
  if (ortPath) return ortPath;
  try {
    ortPath = createRequire(import.meta.url).resolve('onnxruntime-node');
  } catch (err) {
    throw new DependencyMissingError('onnxruntime-node', 'the CLIP embedder', { cause: err });
  }
  return ortPath;
}

/** Lists onnxruntime-node's execution providers available here (e.g. cpu, cuda when its libraries are installed). */
export async function availableExecutionProviders(): Promise<string[]> {
  const ort = (await import('onnxruntime-node')) as unknown as { listSupportedBackends?: () => { name: string; bundled: boolean }[] };
  return (ort.listSupportedBackends?.() ?? [{ name: 'cpu', bundled: true }]).map((b) => b.name);
}

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
}

/** One model session in its own worker thread. `close()` releases the session and ends the thread. */
export class SessionWorker {
  readonly inputs: ValueMeta[];
  readonly outputs: ValueMeta[];
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | undefined;
  private closed = false;

  private constructor(worker: Worker, inputs: ValueMeta[], outputs: ValueMeta[]) {
    this.worker = worker;
    this.inputs = inputs;
    this.outputs = outputs;
  }

  /** Loads the model at `path`. Throws ModelBundleError when onnxruntime rejects it. */
  static async open(path: string, options: SessionOptions): Promise<SessionWorker> {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { ortPath: resolveOrt() } });
    worker.unref();
    const host = new SessionWorker(worker, [], []);
    host.listen();
    try {
      const res = await host.call({ type: 'load', path, device: options.device, threads: options.threads, spinning: options.spinning ?? true });
      (host as { inputs: ValueMeta[] }).inputs = res.inputs as ValueMeta[];
      (host as { outputs: ValueMeta[] }).outputs = res.outputs as ValueMeta[];
      return host;
    } catch (err) {
      await worker.terminate();
      const message = err instanceof Error ? err.message : String(err);
      if (options.device === 'cuda') {
        throw new DependencyMissingError('onnxruntime-node (CUDA execution provider)', `running the model on device "cuda"`, {
          cause: err,
          hint: 'install the CUDA 12 runtime and cuDNN 9 and reinstall onnxruntime-node with its CUDA provider, or use device "cpu"',
        });
      }
      throw new ModelBundleError(`onnxruntime cannot load ${path}: ${message}`, { cause: err });
    }
  }

  private listen(): void {
    this.worker.on('message', (msg: { id: number; ok: boolean; error?: { message: string } } & Record<string, unknown>) => {
      const p = this.pending.get(msg.id);
      if (!p) return;
      this.pending.delete(msg.id);
      if (this.pending.size === 0) this.worker.unref();
      if (msg.ok) p.resolve(msg);
      else p.reject(new Error(msg.error?.message ?? 'worker error'));
    });
    const fail = (err: Error) => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    this.worker.on('error', (err) => fail(new PixsearchError('MODEL_RUNTIME', `model worker failed: ${err.message}`, { cause: err })));
    this.worker.on('exit', (code) => {
      if (!this.closed) fail(new PixsearchError('MODEL_RUNTIME', `model worker exited (code ${code})`));
    });
  }

  private call(msg: Record<string, unknown>, transfer: ArrayBuffer[] = []): Promise<Record<string, unknown>> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ ...msg, id }, transfer);
    });
  }

  /** Runs the graph; the feeds' buffers are transferred to the worker (do not reuse them). */
  async run(feeds: Record<string, WireTensor>, output: string): Promise<WireTensor> {
    const transfer = Object.values(feeds).map((t) => t.data.buffer as ArrayBuffer);
    try {
      const res = await this.call({ type: 'run', feeds, output }, transfer);
      return res.tensor as WireTensor;
    } catch (err) {
      if (err instanceof PixsearchError) throw err;
      throw new PixsearchError('MODEL_RUNTIME', `model run failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
  }

  /** Releases the session and stops the worker. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    try {
      if (!this.failure) await this.call({ type: 'release' });
    } catch {
      // the worker is going away anyway
    }
    this.closed = true;
    await this.worker.terminate();
  }
}
