// Worker-thread side of the `exact` backend: one shard of the vectors, scanned with USearch's
// SIMD `exactSearch` kernel (one native thread per shard worker, so the shards of one query run
// on all cores while the main thread stays free). Imports nothing from the workspace but the
// message types: it also runs from TypeScript sources through tsx.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { parentPort, workerData } from 'node:worker_threads';
import { shardOf, type ShardHits, type ShardInit, type ShardRequest } from './exact-protocol.js';
import type { WorkerReply } from './worker-pool.js';

interface Kernel {
  exactSearch(
    dataset: Float32Array | Int8Array,
    queries: Float32Array | Int8Array,
    dimensions: number,
    wanted: number,
    metric: string,
    threads: number,
  ): [BigUint64Array, Float32Array, BigUint64Array];
}

/** A saved file that cannot be right (reported to the main thread as `IndexCorruptError`). */
class CorruptData extends Error {}

/** Kernel scratch is rows × queries × 16 bytes per call: queries per call are capped to keep it ≤ 16 MiB. */
const SCRATCH_PAIRS = 1 << 20;
/** Rows read per chunk when loading. */
const LOAD_CHUNK_ROWS = 4096;
const MIN_SEGMENT_ROWS = 256;

/** Largest |component| scaled to 127, rounded (as the usearch backend's i8 kind does). */
function quantizeInto(src: Float32Array, srcAt: number, dst: Int8Array, dstAt: number, d: number): void {
  let max = 0;
  for (let j = 0; j < d; j++) max = Math.max(max, Math.abs(src[srcAt + j]!));
  if (max === 0) {
    dst.fill(0, dstAt, dstAt + d);
    return;
  }
  const scale = 127 / max;
  for (let j = 0; j < d; j++) dst[dstAt + j] = Math.round(src[srcAt + j]! * scale);
}

/**
 * One shard: rows in segments of `segmentRows` (each its own ArrayBuffer: the kernel reads from
 * the start of a typed array's buffer), the last one grown by doubling. Row r lives in segment
 * ⌊r / S⌋ at r mod S; removal moves the last row into the hole, so rows stay dense.
 */
class Shard {
  size = 0;
  private readonly rows: Float32Array[] = [];
  private readonly codes: Int8Array[] = [];
  private readonly ids: Float64Array[] = [];
  private readonly rowOf = new Map<number, number>();
  private readonly d: number;
  private readonly S: number;
  private readonly i8: boolean;
  private readonly cosine: boolean;

  constructor(
    private readonly init: ShardInit,
    private readonly kernel: Kernel,
  ) {
    this.d = init.dimension;
    this.S = init.segmentRows;
    this.i8 = init.quantization === 'i8';
    this.cosine = init.metric === 'ip';
  }

  private capacity(): number {
    const n = this.ids.length;
    return n === 0 ? 0 : (n - 1) * this.S + this.ids[n - 1]!.length;
  }

  private reserve(rows: number): void {
    const { S, d } = this;
    while (this.capacity() < rows) {
      const last = this.ids.length - 1;
      if (last >= 0 && this.ids[last]!.length < S) {
        const cap = Math.min(S, Math.max(this.ids[last]!.length * 2, rows - last * S));
        const ids = new Float64Array(cap);
        ids.set(this.ids[last]!);
        this.ids[last] = ids;
        const vec = new Float32Array(cap * d);
        vec.set(this.rows[last]!);
        this.rows[last] = vec;
        if (this.i8) {
          const codes = new Int8Array(cap * d);
          codes.set(this.codes[last]!);
          this.codes[last] = codes;
        }
      } else {
        const cap = Math.min(S, Math.max(MIN_SEGMENT_ROWS, rows - this.ids.length * S));
        this.ids.push(new Float64Array(cap));
        this.rows.push(new Float32Array(cap * d));
        if (this.i8) this.codes.push(new Int8Array(cap * d));
      }
    }
  }

  /** Drops trailing segments no row uses any more. */
  private trim(): void {
    while (this.ids.length > 0 && (this.ids.length - 1) * this.S >= this.size) {
      this.ids.pop();
      this.rows.pop();
      if (this.i8) this.codes.pop();
    }
  }

  private put(row: number, id: number, src: Float32Array, at: number): void {
    const s = Math.floor(row / this.S);
    const off = row - s * this.S;
    this.ids[s]![off] = id;
    this.rows[s]!.set(src.subarray(at, at + this.d), off * this.d);
    if (this.i8) quantizeInto(src, at, this.codes[s]!, off * this.d, this.d);
  }

  add(ids: Float64Array, vectors: Float32Array): void {
    this.reserve(this.size + ids.length);
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      let row = this.rowOf.get(id);
      if (row === undefined) {
        row = this.size++;
        this.rowOf.set(id, row);
      }
      this.put(row, id, vectors, i * this.d);
    }
  }

  remove(ids: Float64Array): number {
    let removed = 0;
    for (const id of ids) {
      const row = this.rowOf.get(id);
      if (row === undefined) continue;
      this.rowOf.delete(id);
      const last = --this.size;
      if (row !== last) {
        const ls = Math.floor(last / this.S);
        const loff = last - ls * this.S;
        const movedId = this.ids[ls]![loff]!;
        this.put(row, movedId, this.rows[ls]!, loff * this.d);
        this.rowOf.set(movedId, row);
      }
      removed++;
    }
    this.trim();
    return removed;
  }

  has(ids: Float64Array): Uint8Array {
    return Uint8Array.from(ids, (id) => (this.rowOf.has(id) ? 1 : 0));
  }

  /** Exact score of `row` for query `q` (at `qAt`), in double precision: dot, or −squared distance. */
  private score(row: number, q: Float32Array, qAt: number): number {
    const s = Math.floor(row / this.S);
    const data = this.rows[s]!;
    const at = (row - s * this.S) * this.d;
    let acc = 0;
    if (this.cosine) {
      for (let j = 0; j < this.d; j++) acc += data[at + j]! * q[qAt + j]!;
      return acc;
    }
    for (let j = 0; j < this.d; j++) {
      const t = data[at + j]! - q[qAt + j]!;
      acc += t * t;
    }
    return -acc;
  }

  search(queries: Float32Array, k: number): ShardHits {
    const { d, S } = this;
    const nq = queries.length / d;
    const hits: ShardHits = { ids: new Float64Array(nq * k), scores: new Float64Array(nq * k), counts: new Int32Array(nq) };
    if (this.size === 0) return hits;
    // The i8 scan keeps k × rerank candidates per query, re-ranked below with the f32 rows.
    const wanted = this.i8 ? Math.max(32, k * this.init.rerank) : k;
    const metric = this.i8 ? 'cos' : this.init.metric;
    const scan: Float32Array | Int8Array = this.i8 ? new Int8Array(queries.length) : queries;
    if (this.i8) for (let q = 0; q < nq; q++) quantizeInto(queries, q * d, scan as Int8Array, q * d, d);
    // Per segment: the kernel's answers (best first) for consecutive chunks of `perCall` queries.
    const segs: { perCall: number; want: number; calls: { keys: BigUint64Array; dist: Float32Array }[] }[] = [];
    for (let s = 0; s * S < this.size; s++) {
      const rows = Math.min(S, this.size - s * S);
      const data = this.i8 ? new Int8Array(this.codes[s]!.buffer, 0, rows * d) : new Float32Array(this.rows[s]!.buffer, 0, rows * d);
      const want = Math.min(wanted, rows);
      const perCall = Math.max(1, Math.min(nq, Math.floor(SCRATCH_PAIRS / rows)));
      const calls: { keys: BigUint64Array; dist: Float32Array }[] = [];
      for (let q0 = 0; q0 < nq; q0 += perCall) {
        const n = Math.min(perCall, nq - q0);
        // The kernel reads from the start of the query array's buffer: pass a fresh copy unless whole.
        const chunk = n === nq && scan.byteOffset === 0 && scan.byteLength === scan.buffer.byteLength ? scan : scan.slice(q0 * d, (q0 + n) * d);
        const [keys, dist] = this.kernel.exactSearch(data, chunk, d, want, metric, 1);
        calls.push({ keys, dist });
      }
      segs.push({ perCall, want, calls });
    }
    const heads = new Int32Array(segs.length);
    for (let q = 0; q < nq; q++) {
      // Merge the segments' sorted runs (k × segments steps; no sorting, no objects).
      heads.fill(0);
      const total = segs.reduce((sum, g) => sum + g.want, 0);
      const take = Math.min(this.i8 ? wanted : k, total);
      const rowsOut = new Float64Array(take);
      const distOut = new Float64Array(take);
      for (let i = 0; i < take; i++) {
        let best = -1;
        let bestDist = Infinity;
        for (let g = 0; g < segs.length; g++) {
          const seg = segs[g]!;
          if (heads[g]! >= seg.want) continue;
          const call = seg.calls[Math.floor(q / seg.perCall)]!;
          const dist = call.dist[(q % seg.perCall) * seg.want + heads[g]!]!;
          if (dist < bestDist) {
            bestDist = dist;
            best = g;
          }
        }
        const seg = segs[best]!;
        const call = seg.calls[Math.floor(q / seg.perCall)]!;
        rowsOut[i] = best * S + Number(call.keys[(q % seg.perCall) * seg.want + heads[best]!]!);
        distOut[i] = bestDist;
        heads[best]!++;
      }
      if (!this.i8) {
        // The kernel's distances are the scores: 1 − dot (ip) or the squared distance (l2sq).
        for (let i = 0; i < take; i++) {
          const row = rowsOut[i]!;
          const g = Math.floor(row / S);
          hits.ids[q * k + i] = this.ids[g]![row - g * S]!;
          hits.scores[q * k + i] = this.cosine ? 1 - distOut[i]! : -distOut[i]!;
        }
        hits.counts[q] = take;
        continue;
      }
      // i8: re-rank the candidates by their f32 rows (double precision).
      const order = Array.from({ length: take }, (_, i) => ({ row: rowsOut[i]!, score: this.score(rowsOut[i]!, queries, q * d) }));
      order.sort((a, b) => b.score - a.score || a.row - b.row);
      const m = Math.min(k, order.length);
      for (let i = 0; i < m; i++) {
        const row = order[i]!.row;
        const g = Math.floor(row / S);
        hits.ids[q * k + i] = this.ids[g]![row - g * S]!;
        hits.scores[q * k + i] = order[i]!.score;
      }
      hits.counts[q] = m;
    }
    return hits;
  }

  write(fd: number, idsAt: number, rowsAt: number): void {
    const { d, S } = this;
    for (let s = 0; s * S < this.size; s++) {
      const rows = Math.min(S, this.size - s * S);
      writeAll(fd, new Uint8Array(this.ids[s]!.buffer, 0, rows * 8), idsAt + s * S * 8);
      writeAll(fd, new Uint8Array(this.rows[s]!.buffer, 0, rows * d * 4), rowsAt + s * S * d * 4);
    }
  }

  load(file: string, total: number, from: number, to: number, shard: number, shards: number, strict: boolean): void {
    const { d } = this;
    const fd = openSync(file, 'r');
    try {
      const ids = new Float64Array(LOAD_CHUNK_ROWS);
      const vectors = new Float32Array(LOAD_CHUNK_ROWS * d);
      for (let start = from; start < to; start += LOAD_CHUNK_ROWS) {
        const n = Math.min(LOAD_CHUNK_ROWS, to - start);
        readAll(fd, new Uint8Array(ids.buffer, 0, n * 8), start * 8);
        readAll(fd, new Uint8Array(vectors.buffer, 0, n * d * 4), total * 8 + start * d * 4);
        const keep: number[] = [];
        for (let i = 0; i < n; i++) {
          const id = ids[i]!;
          if (!Number.isSafeInteger(id) || id < 0) throw new CorruptData(`row ${start + i} has an invalid id ${id}`);
          if (shardOf(id, shards) !== shard) {
            if (strict) throw new CorruptData(`row ${start + i} (id ${id}) is stored in the wrong shard`);
            continue;
          }
          if (this.rowOf.has(id)) throw new CorruptData(`id ${id} is stored twice`);
          for (let j = i * d; j < (i + 1) * d; j++) {
            const v = vectors[j]!;
            if (!(v === v) || v === Infinity || v === -Infinity) throw new CorruptData(`row ${start + i} (id ${id}) holds ${v}`);
          }
          keep.push(i);
        }
        if (keep.length === n) {
          this.add(ids.subarray(0, n), vectors);
        } else {
          for (const i of keep) this.add(ids.subarray(i, i + 1), vectors.subarray(i * d, (i + 1) * d));
        }
      }
    } finally {
      closeSync(fd);
    }
  }

  export(from: number, count: number): { ids: Float64Array; vectors: Float32Array } {
    const { d, S } = this;
    const n = Math.max(0, Math.min(count, this.size - from));
    const ids = new Float64Array(n);
    const vectors = new Float32Array(n * d);
    for (let i = 0; i < n; i++) {
      const row = from + i;
      const s = Math.floor(row / S);
      const off = row - s * S;
      ids[i] = this.ids[s]![off]!;
      vectors.set(this.rows[s]!.subarray(off * d, (off + 1) * d), i * d);
    }
    return { ids, vectors };
  }
}

function writeAll(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length; ) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

function readAll(fd: number, bytes: Uint8Array, position: number): void {
  for (let done = 0; done < bytes.length; ) {
    const n = readSync(fd, bytes, done, bytes.length - done, position + done);
    if (n === 0) throw new CorruptData(`the file ends at byte ${position + done}`);
    done += n;
  }
}

if (parentPort) {
  const port = parentPort;
  const init = workerData as ShardInit;
  const kernel = createRequire(init.addon.nodeGypBuild)(init.addon.nodeGypBuild) as (root: string) => Kernel;
  const shard = new Shard(init, kernel(init.addon.root));
  port.on('message', ({ id, req }: { id: number; req: ShardRequest }) => {
    let reply: WorkerReply;
    const transfer: ArrayBuffer[] = [];
    try {
      let value: unknown;
      switch (req.op) {
        case 'add':
          shard.add(req.ids, req.vectors);
          break;
        case 'remove':
          value = shard.remove(req.ids);
          break;
        case 'has':
          value = shard.has(req.ids);
          break;
        case 'search': {
          const hits = shard.search(req.queries, req.k);
          transfer.push(hits.ids.buffer as ArrayBuffer, hits.scores.buffer as ArrayBuffer, hits.counts.buffer as ArrayBuffer);
          value = hits;
          break;
        }
        case 'write':
          shard.write(req.fd, req.idsAt, req.rowsAt);
          break;
        case 'load':
          shard.load(req.file, req.total, req.from, req.to, req.shard, req.shards, req.strict);
          break;
        case 'export': {
          const out = shard.export(req.from, req.count);
          transfer.push(out.ids.buffer as ArrayBuffer, out.vectors.buffer as ArrayBuffer);
          value = out;
          break;
        }
        case 'hold':
          while (Atomics.load(req.flag, 0) === 0) Atomics.wait(req.flag, 0, 0);
          break;
      }
      reply = { id, ok: true, size: shard.size, value };
    } catch (err) {
      reply = { id, ok: false, code: err instanceof CorruptData ? 'corrupt' : 'error', message: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(reply, transfer);
  });
}
