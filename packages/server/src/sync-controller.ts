import type { SyncProgress, SyncSummary } from '@pixsearch/core/engine';
import { PixsearchError } from '@pixsearch/core';
import type { EngineLike } from './engine-like.js';
import { HttpError } from './http-errors.js';

/** Progress as sent over JSON (`undefined` fields become `null`). */
export interface SyncProgressJson {
  phase: SyncProgress['phase'];
  done: number;
  total: number | null;
  rate: number;
  etaSeconds: number | null;
  current?: string;
  /** Embed phase: images decoded / run through the model so far. */
  decoded?: number;
  embedded?: number;
}

/**
 * Who started a sync: the page or an API client (`api`), the folder watcher (`watch`),
 * `pixsearch index` (`cli`), or `pixsearch serve`'s first sync, which catches up with what
 * changed while it was down (`startup`).
 */
export type SyncTrigger = 'api' | 'watch' | 'cli' | 'startup';

/** Options of a server-started sync. */
export interface SyncStartOptions {
  /** Folders to sync (added to the library when new); default: all of the library's. */
  roots?: string[] | undefined;
  /** Aborts the sync (committed work is kept; the summary says `aborted`). */
  signal?: AbortSignal | undefined;
  /**
   * Work done first, as part of the sync (it counts as running, so other requests queue behind
   * it): `pixsearch serve` fetches the model of a new library here. Its failure fails the sync.
   */
  prepare?: (() => Promise<void>) | undefined;
}

/** What `/api/status` and the SSE `state` event report about syncing. */
export interface SyncState {
  running: boolean;
  /** Number of the current (or last) server-started sync (1, 2, …; 0 before the first). */
  id: number;
  /** Who started the current (or last) server-started sync. */
  trigger: SyncTrigger | null;
  /** ISO time the current (or last) server-started sync began. */
  startedAt: string | null;
  /** Latest progress seen (of any sync in this process, while someone listens). */
  progress: SyncProgressJson | null;
  /** Summary of the last server-started sync that finished. */
  lastSummary: SyncSummary | null;
  /** Error of the last server-started sync, when it failed. */
  lastError: { code: string; message: string } | null;
  finishedAt: string | null;
}

/** One server-sent event. */
export interface SyncMessage {
  event: 'state' | 'progress' | 'done' | 'error' | 'warning';
  data: unknown;
}

const MAX_PENDING = 64;

/** A listener's queue of messages; progress messages coalesce so slow readers stay bounded. */
export class SyncSubscription {
  readonly #pending: SyncMessage[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(readonly onClose: (s: SyncSubscription) => void) {}

  get closed(): boolean {
    return this.#closed;
  }

  push(msg: SyncMessage): void {
    if (this.#closed) return;
    const last = this.#pending[this.#pending.length - 1];
    if (msg.event === 'progress' && last?.event === 'progress') this.#pending[this.#pending.length - 1] = msg;
    else {
      this.#pending.push(msg);
      if (this.#pending.length > MAX_PENDING) this.#pending.splice(0, this.#pending.length - MAX_PENDING);
    }
    this.#wake?.();
  }

  /** Next message, or undefined after `timeoutMs` without one or once closed. */
  async next(timeoutMs: number): Promise<SyncMessage | undefined> {
    if (this.#pending.length === 0 && !this.#closed) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, timeoutMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.#wake = done;
      });
      this.#wake = undefined;
    }
    return this.#pending.shift();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#pending.length = 0;
    this.#wake?.();
    this.onClose(this);
  }
}

function progressJson(p: SyncProgress): SyncProgressJson {
  return {
    phase: p.phase,
    done: p.done,
    total: p.total ?? null,
    rate: Number.isFinite(p.rate) ? p.rate : 0,
    etaSeconds: p.etaSeconds === undefined || !Number.isFinite(p.etaSeconds) ? null : p.etaSeconds,
    ...(p.current === undefined ? {} : { current: p.current }),
    ...(p.decoded === undefined ? {} : { decoded: p.decoded }),
    ...(p.embedded === undefined ? {} : { embedded: p.embedded }),
  };
}

/**
 * Starts syncs on behalf of HTTP clients (one at a time) and fans engine progress out to
 * server-sent-event subscribers. Engine listeners are attached only while someone listens or
 * a server-started sync runs. `shutdown()` aborts a server-started sync (committed work is
 * kept) and ends every subscription.
 */
export class SyncController {
  readonly #engine: EngineLike;
  readonly #subs = new Set<SyncSubscription>();
  #own: { abort: AbortController; done: Promise<void>; result: Promise<SyncSummary> } | undefined;
  #id = 0;
  #trigger: SyncTrigger | null = null;
  #startedAt: string | null = null;
  #finishedAt: string | null = null;
  #progress: SyncProgressJson | null = null;
  #lastSummary: SyncSummary | null = null;
  #lastError: { code: string; message: string } | null = null;
  #attached = false;
  #closed = false;

  /**
   * `onChange` runs when a sync (any, while listened to) finishes: cached stats go stale.
   * `onSynced` runs after each server-started sync that succeeded, with the roots it was given.
   */
  constructor(
    engine: EngineLike,
    private readonly onChange: () => void = () => undefined,
    private readonly onSynced: (summary: SyncSummary, roots: string[] | undefined) => void = () => undefined,
  ) {
    this.#engine = engine;
  }

  readonly #onProgress = (p: SyncProgress): void => {
    if (p.phase === 'done') this.onChange();
    this.#progress = progressJson(p);
    this.#broadcast({ event: 'progress', data: this.#progress });
  };

  readonly #onWarning = (message: string): void => {
    this.#broadcast({ event: 'warning', data: { message } });
  };

  get subscriberCount(): number {
    return this.#subs.size;
  }

  /** Current state (running covers syncs started elsewhere in the process too). */
  state(): SyncState {
    return {
      running: this.#own !== undefined || this.#engine.isSyncing,
      id: this.#id,
      trigger: this.#trigger,
      startedAt: this.#startedAt,
      progress: this.#progress,
      lastSummary: this.#lastSummary,
      lastError: this.#lastError,
      finishedAt: this.#finishedAt,
    };
  }

  /**
   * Starts an incremental sync (of `options.roots`, added to the library when new; default all);
   * throws HTTP 409 (`SYNC_RUNNING`) while one runs. The `done` event's data is the summary plus
   * `syncId` and `trigger`; the `error` event's carries `syncId` too.
   */
  start(trigger: SyncTrigger = 'api', options: SyncStartOptions = {}): SyncState {
    if (this.#closed) throw new HttpError(503, 'CLOSED', 'the server is shutting down');
    if (this.#own !== undefined || this.#engine.isSyncing) throw new HttpError(409, 'SYNC_RUNNING', 'a sync is already running');
    const { roots, signal, prepare } = options;
    const abort = new AbortController();
    const onAbort = (): void => abort.abort();
    if (signal?.aborted) abort.abort();
    else signal?.addEventListener('abort', onAbort, { once: true });
    const id = ++this.#id;
    this.#trigger = trigger;
    this.#startedAt = new Date().toISOString();
    this.#finishedAt = null;
    this.#progress = null;
    this.#lastError = null;
    const result = Promise.resolve().then(async () => {
      await prepare?.();
      return this.#engine.sync({ signal: abort.signal, ...(roots && roots.length > 0 ? { roots } : {}) });
    });
    const run = result
      .then(
        (summary) => {
          this.onChange();
          this.#lastSummary = summary;
          this.#broadcast({ event: 'done', data: { ...summary, syncId: id, trigger } });
          try {
            this.onSynced(summary, roots && roots.length > 0 ? roots : undefined);
          } catch {
            // a listener's problem is not the sync's
          }
        },
        (err: unknown) => {
          this.onChange();
          this.#lastError =
            err instanceof PixsearchError ? { code: err.code, message: err.message } : { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
          this.#broadcast({ event: 'error', data: { ...this.#lastError, syncId: id } });
        },
      )
      .finally(() => {
        signal?.removeEventListener('abort', onAbort);
        this.#finishedAt = new Date().toISOString();
        this.#own = undefined;
        this.#updateListeners();
      });
    this.#own = { abort, done: run, result };
    this.#updateListeners();
    return this.state();
  }

  /** Resolves when no server-started sync runs (at once when none does). */
  async idle(): Promise<void> {
    while (this.#own) await this.#own.done;
  }

  /**
   * Runs a sync after the one running (if any) and resolves with its summary: what the folder
   * watcher calls, so that changes seen during a sync get a sync of their own. Rejects when the
   * sync fails or the server shuts down.
   */
  async runQueued(trigger: SyncTrigger, options: SyncStartOptions = {}): Promise<SyncSummary> {
    for (;;) {
      await this.idle();
      if (this.#closed) throw new HttpError(503, 'CLOSED', 'the server is shutting down');
      // Someone else in the process (not through this controller) may still be syncing.
      if (this.#engine.isSyncing) {
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      this.start(trigger, options);
      const own = this.#own!;
      await own.done;
      return own.result;
    }
  }

  /** A new subscriber; it must `close()` it. */
  subscribe(): SyncSubscription {
    const sub = new SyncSubscription((s) => {
      this.#subs.delete(s);
      this.#updateListeners();
    });
    if (this.#closed) {
      sub.close();
      return sub;
    }
    this.#subs.add(sub);
    this.#updateListeners();
    return sub;
  }

  /** Aborts a server-started sync, waits for it to stop, and closes every subscription. */
  async shutdown(): Promise<void> {
    this.#closed = true;
    const own = this.#own;
    if (own) {
      own.abort.abort();
      await own.done;
    }
    for (const s of [...this.#subs]) s.close();
    this.#updateListeners();
  }

  #broadcast(msg: SyncMessage): void {
    for (const s of this.#subs) s.push(msg);
  }

  #updateListeners(): void {
    const want = !this.#closed && (this.#own !== undefined || this.#subs.size > 0);
    if (want === this.#attached) return;
    if (want) {
      this.#engine.on('progress', this.#onProgress);
      this.#engine.on('warning', this.#onWarning);
    } else {
      this.#engine.off('progress', this.#onProgress);
      this.#engine.off('warning', this.#onWarning);
    }
    this.#attached = want;
  }
}
