import PgBoss from 'pg-boss';

/** Name of the pg-boss queue of embedding jobs (one job per image id). */
export const EMBED_QUEUE = 'pixsearch-embed';
/** PostgreSQL schema pg-boss keeps its tables in (next to the catalog's `pixsearch`). */
export const QUEUE_SCHEMA = 'pixsearch_jobs';

/** The data of one job: the catalog id of an image whose row is `queued`. */
export interface EmbedJobData {
  imageId: number;
}

export interface EmbedQueueOptions {
  /**
   * Seconds a claimed job may stay active before it is failed and retried (the worker died or
   * hangs). Default 600. A worker must finish a batch within it. Jobs keep the value in effect
   * when they were enqueued (set it on the scanner).
   */
  expireInSeconds?: number;
  /** Retries of a failed or expired job. Default 10. */
  retryLimit?: number;
  /** Seconds between pg-boss maintenance runs (which expire jobs of dead workers). Default 30. */
  maintenanceIntervalSeconds?: number;
  /** Seconds between polls of an idle worker. Default 1. */
  pollingIntervalSeconds?: number;
  /** Run pg-boss maintenance in this process (workers: yes; a scanner: no). Default true. */
  supervise?: boolean;
}

/**
 * The embedding job queue of a scaled-out library, on pg-boss (PostgreSQL `SKIP LOCKED` queues) in
 * the library's own database. Jobs are keyed by image id with the `stately` policy: at most one
 * waiting and one active job per image, so a re-scan never doubles work. A job whose worker dies
 * (even `kill -9`) expires after `expireInSeconds` and is retried by another worker.
 * The owner must `close()` it.
 */
export class EmbedQueue {
  private stopping = false;
  /** The running `work()` loops, and the wake-ups of those idling. */
  private readonly loops: Promise<void>[] = [];
  private readonly wake = new Set<() => void>();

  private constructor(private readonly boss: PgBoss) {}

  /** Connects, creating pg-boss's schema and the queue when missing. */
  static async open(url: string, options: EmbedQueueOptions = {}): Promise<EmbedQueue> {
    const boss = new PgBoss({
      connectionString: url,
      schema: QUEUE_SCHEMA,
      application_name: 'pixsearch-queue',
      max: 4,
      supervise: options.supervise ?? true,
      schedule: false,
      maintenanceIntervalSeconds: options.maintenanceIntervalSeconds ?? 30,
    });
    // Connection hiccups are reported by the calls that fail; pg-boss retries its own polling.
    boss.on('error', () => undefined);
    await boss.start();
    const queue = new EmbedQueue(boss);
    try {
      if (!(await boss.getQueue(EMBED_QUEUE))) {
        await boss.createQueue(EMBED_QUEUE, {
          name: EMBED_QUEUE,
          policy: 'stately',
          retryLimit: options.retryLimit ?? 10,
          retryDelay: 1,
          expireInSeconds: options.expireInSeconds ?? 600,
        });
      } else if (options.expireInSeconds !== undefined || options.retryLimit !== undefined) {
        await boss.updateQueue(EMBED_QUEUE, {
          name: EMBED_QUEUE,
          policy: 'stately',
          ...(options.retryLimit !== undefined ? { retryLimit: options.retryLimit } : {}),
          ...(options.expireInSeconds !== undefined ? { expireInSeconds: options.expireInSeconds } : {}),
        });
      }
    } catch (err) {
      // Another process created it at the same moment.
      if (!(await boss.getQueue(EMBED_QUEUE).catch(() => null))) {
        await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
        throw err;
      }
    }
    return queue;
  }

  /** Enqueues one job per image id (ids with a job already waiting are left as they are). */
  async enqueue(ids: readonly number[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 1000) {
      const part = ids.slice(i, i + 1000);
      await this.boss.insert(part.map((imageId) => ({ name: EMBED_QUEUE, data: { imageId } satisfies EmbedJobData, singletonKey: String(imageId) })));
    }
  }

  /**
   * Claims batches of up to `batchSize` jobs and runs `handler` on each batch until `close()`.
   * A batch whose handler throws is failed and retried; one that resolves is completed. While there
   * is work the next batch is fetched at once; an idle worker polls every `pollingIntervalSeconds`.
   *
   * Our own loop over `fetch`/`complete`/`fail` rather than pg-boss's `work()`: pg-boss 10 does not
   * await or catch its `complete()` after a handler, so a database error at that moment (a
   * restart, a failover, a dropped connection) is an unhandled rejection that kills the process.
   * Here such errors are reported through `onError` and the loop goes on; the batch's jobs, if
   * not completed, expire and are retried (every write is an idempotent upsert).
   */
  work(
    handler: (jobs: { id: string; data: EmbedJobData }[]) => Promise<void>,
    options: { batchSize?: number; pollingIntervalSeconds?: number; onError?: (err: Error) => void } = {},
  ): void {
    const batchSize = options.batchSize ?? 8;
    const idleMs = (options.pollingIntervalSeconds ?? 1) * 1000;
    const report = (err: unknown): void => options.onError?.(err instanceof Error ? err : new Error(String(err)));
    this.loops.push(
      (async () => {
        while (!this.stopping) {
          let jobs: { id: string; data: EmbedJobData }[];
          try {
            jobs = await this.boss.fetch<EmbedJobData>(EMBED_QUEUE, { batchSize });
          } catch (err) {
            report(err);
            await this.idle(idleMs);
            continue;
          }
          if (jobs.length === 0) {
            await this.idle(idleMs);
            continue;
          }
          const ids = jobs.map((j) => j.id);
          try {
            await handler(jobs.map((j) => ({ id: j.id, data: j.data })));
          } catch (err) {
            report(err as Error);
            await this.boss.fail(EMBED_QUEUE, ids).catch(report);
            continue;
          }
          await this.boss.complete(EMBED_QUEUE, ids).catch(report);
        }
      })(),
    );
  }

  /** Waits `ms`, or less when `close()` is called. */
  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(t);
        this.wake.delete(done);
        resolve();
      };
      const t = setTimeout(done, ms);
      this.wake.add(done);
    });
  }

  /** Jobs waiting (created or retry) and active. */
  async counts(): Promise<{ waiting: number; active: number }> {
    const waiting = await this.boss.getQueueSize(EMBED_QUEUE, { before: 'active' });
    const upToActive = await this.boss.getQueueSize(EMBED_QUEUE, { before: 'completed' });
    return { waiting, active: upToActive - waiting };
  }

  /** Stops working (the batches in hand finish and are completed) and disconnects. Idempotent. */
  async close(): Promise<void> {
    this.stopping = true;
    for (const wake of [...this.wake]) wake();
    await Promise.all(this.loops.splice(0));
    await this.boss.stop({ graceful: true, wait: true, timeout: 30_000 }).catch(() => undefined);
  }
}
