import { EventEmitter } from 'node:events';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { isWithin } from './paths.js';
import { IMAGE_EXTENSIONS } from './sniff.js';
import { DEFAULT_IGNORED_NAMES } from './walk.js';

/** Quiet time after the last change before a sync starts, ms. */
export const DEFAULT_QUIET_MS = 300;
/** Longest wait from the first change of a burst to its sync, ms (a 10k-file copy syncs in batches). */
export const DEFAULT_MAX_DELAY_MS = 3_000;
/** Rescan interval when folders cannot be watched (inotify limits), ms. */
export const DEFAULT_RESCAN_MS = 5 * 60_000;

/** One file-system change, as @parcel/watcher reports it. */
export interface WatchEvent {
  path: string;
  type: 'create' | 'update' | 'delete';
}

/** A live subscription to one folder's changes. */
export interface WatchSubscription {
  unsubscribe(): Promise<void>;
}

/** Subscribes to a folder tree (the shape of @parcel/watcher's `subscribe`); injectable for tests. */
export type SubscribeFn = (dir: string, callback: (err: Error | null, events: WatchEvent[]) => void, options: { ignore: string[] }) => Promise<WatchSubscription>;

/** Options of {@link FolderWatcher.start}. */
export interface FolderWatcherOptions {
  /** Absolute folders to follow (the library's roots). */
  roots: readonly string[];
  /** Absolute folders whose changes never count (the data directory). */
  exclude?: readonly string[];
  /**
   * Runs one sync (of everything: the sync is incremental). The watcher never runs two at once;
   * changes seen while one runs start another after it. A rejection becomes a `warning` event.
   */
  sync: () => Promise<unknown>;
  /** Quiet time after the last change before syncing, ms (default {@link DEFAULT_QUIET_MS}). */
  quietMs?: number;
  /** Longest delay from a burst's first change to its sync, ms (default {@link DEFAULT_MAX_DELAY_MS}). */
  maxDelayMs?: number;
  /** Rescan interval when watching is impossible, ms (default {@link DEFAULT_RESCAN_MS}). */
  rescanMs?: number;
  /** Start without syncing until `resume()` (changes seen meanwhile are kept for then). */
  paused?: boolean;
  /** `poll`: do not watch, rescan every `rescanMs`. Default `events`. */
  mode?: 'events' | 'poll';
  /** The subscribe function (default: @parcel/watcher's, loaded on first use). */
  subscribe?: SubscribeFn;
}

/** Events of a {@link FolderWatcher}. */
export interface FolderWatcherEvents {
  /** Relevant changes arrived (absolute paths of this batch of events). */
  change: [paths: string[]];
  /** A sync starts. */
  syncing: [];
  /** A sync finished (its result), or failed (`undefined`; see `warning`). */
  synced: [result: unknown];
  /** Something the user should know: a failed sync, the switch to rescans (with why and how to fix it). */
  warning: [message: string];
  /** The watcher switched from live events to periodic rescans. */
  fallback: [reason: string];
}

/**
 * Follows the library's folders and turns changes into coalesced syncs: events are gathered
 * until the folders have been quiet for `quietMs` (at most `maxDelayMs` after the first one),
 * then one sync runs; a burst of thousands of files becomes a few batched syncs. Changes inside
 * hidden folders, the skipped folder names, the excluded folders and to files that are not
 * images do not count. When the system cannot watch (inotify limits: ENOSPC, EMFILE) the
 * watcher says so once, with the fix, and falls back to a rescan every `rescanMs`.
 * The caller must `close()` it.
 */
export class FolderWatcher extends EventEmitter<FolderWatcherEvents> {
  readonly #options: FolderWatcherOptions;
  readonly #subs: WatchSubscription[] = [];
  /** Roots subscribed to (or being subscribed). */
  readonly #watched = new Set<string>();
  #mode: 'events' | 'poll' = 'events';
  #timer: NodeJS.Timeout | undefined;
  #rescan: NodeJS.Timeout | undefined;
  #firstChangeAt = 0;
  #pending = false;
  #running: Promise<void> | undefined;
  #paused: boolean;
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  #syncs = 0;
  #fallbackReason: string | undefined;

  private constructor(options: FolderWatcherOptions) {
    super();
    this.#options = options;
    this.#paused = options.paused ?? false;
  }

  /** Subscribes to every root (or starts rescans when that is impossible) and resolves once changes are being followed. */
  static async start(options: FolderWatcherOptions): Promise<FolderWatcher> {
    const w = new FolderWatcher(options);
    if (options.mode === 'poll') w.#startPolling();
    else await w.#subscribeAll();
    return w;
  }

  /** `events` (live) or `poll` (periodic rescans). */
  get mode(): 'events' | 'poll' {
    return this.#mode;
  }

  /** Why the watcher rescans instead of watching (set once it fell back; also sent as `warning` and `fallback`). */
  get fallbackReason(): string | undefined {
    return this.#fallbackReason;
  }

  /** Syncs started so far. */
  get syncCount(): number {
    return this.#syncs;
  }

  /** Stops syncing until `resume()`; changes seen meanwhile are kept. */
  pause(): void {
    this.#paused = true;
  }

  /** Syncs what changed while paused (if anything) and follows changes again. */
  resume(): void {
    this.#paused = false;
    if (this.#pending) this.#schedule(0);
  }

  /** Schedules a sync as if something changed (e.g. a sync was asked for while one ran). */
  poke(): void {
    this.#changed(0);
  }

  /** Resolves once no change is waiting and no sync runs (at once when idle). */
  idle(): Promise<void> {
    if (this.#isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /** Stops watching; waits for a running sync to end (it is not aborted here). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#timer);
    clearInterval(this.#rescan);
    this.#pending = false;
    await Promise.allSettled(this.#subs.splice(0).map((s) => s.unsubscribe()));
    await this.#running;
    this.#wakeIdle();
  }

  /**
   * Follows more folders (e.g. a root a sync just added to the library); those already followed
   * are ignored. In `poll` mode every rescan covers every root already.
   */
  async addRoots(roots: readonly string[]): Promise<void> {
    if (this.#closed || this.#mode === 'poll') return;
    await this.#subscribe(roots);
  }

  async #subscribeAll(): Promise<void> {
    await this.#subscribe(this.#options.roots);
  }

  async #subscribe(roots: readonly string[]): Promise<void> {
    const subscribe = this.#options.subscribe ?? (await loadParcel());
    const ignore = [...(this.#options.exclude ?? [])];
    for (const root of roots) {
      if (this.#watched.has(root)) continue;
      this.#watched.add(root);
      try {
        const sub = await subscribe(root, (err, events) => this.#onEvents(root, err, events), { ignore });
        if (this.#closed || this.#mode === 'poll') {
          await sub.unsubscribe();
          return;
        }
        this.#subs.push(sub);
      } catch (err) {
        await this.#fallBack(root, err);
        return;
      }
    }
  }

  #onEvents(root: string, err: Error | null, events: WatchEvent[]): void {
    if (this.#closed || this.#mode === 'poll') return;
    if (err) {
      // Out of inotify resources: rescans from now on. Anything else (a root that vanished, an
      // unmounted drive): say so, and let a sync look at what is there.
      if (isLimitError(err)) void this.#fallBack(root, err);
      else {
        this.emit('warning', describeWatchError(root, err));
        this.#changed(0);
      }
      return;
    }
    const relevant = events.filter((e) => this.#relevant(root, e)).map((e) => e.path);
    if (relevant.length === 0) return;
    this.emit('change', relevant);
    this.#changed(this.#options.quietMs ?? DEFAULT_QUIET_MS);
  }

  #relevant(root: string, e: WatchEvent): boolean {
    if (!isWithin(root, e.path)) return false;
    if ((this.#options.exclude ?? []).some((x) => isWithin(x, e.path))) return false;
    const rel = path.relative(root, e.path);
    if (rel === '') return true;
    const parts = rel.split(path.sep);
    if (parts.some((p) => p.startsWith('.') || DEFAULT_IGNORED_NAMES.includes(p))) return false;
    const base = parts[parts.length - 1]!;
    const dot = base.lastIndexOf('.');
    if (dot > 0 && IMAGE_EXTENSIONS.has(base.slice(dot + 1).toLowerCase())) return true;
    // A deleted path may have been a folder full of images; a created or changed one is a folder or not an image.
    if (e.type === 'delete') return true;
    try {
      return statSync(e.path).isDirectory() && e.type === 'create';
    } catch {
      return true;
    }
  }

  #changed(delayMs: number): void {
    if (this.#closed) return;
    if (!this.#pending) this.#firstChangeAt = Date.now();
    this.#pending = true;
    if (this.#paused || this.#running) return;
    this.#schedule(delayMs);
  }

  #schedule(delayMs: number): void {
    clearTimeout(this.#timer);
    const maxDelay = this.#options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    const wait = Math.max(0, Math.min(delayMs, this.#firstChangeAt + maxDelay - Date.now()));
    this.#timer = setTimeout(() => this.#flush(), wait);
  }

  #flush(): void {
    this.#timer = undefined;
    if (this.#closed || this.#paused || this.#running || !this.#pending) return;
    this.#pending = false;
    this.#syncs++;
    this.emit('syncing');
    this.#running = (async () => {
      let result: unknown;
      try {
        result = await this.#options.sync();
      } catch (err) {
        this.emit('warning', `sync after a folder change failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      this.#running = undefined;
      this.emit('synced', result);
      // Changes that arrived during the sync: one more, after a quiet period.
      if (this.#pending && !this.#paused && !this.#closed) this.#schedule(this.#options.quietMs ?? DEFAULT_QUIET_MS);
      else this.#wakeIdle();
    })();
  }

  #isIdle(): boolean {
    return this.#closed || (!this.#pending && !this.#running);
  }

  #wakeIdle(): void {
    if (!this.#isIdle()) return;
    for (const w of this.#idleWaiters.splice(0)) w();
  }

  async #fallBack(root: string, err: unknown): Promise<void> {
    if (this.#mode === 'poll' || this.#closed) return;
    this.#mode = 'poll';
    const reason = describeWatchError(root, err);
    await Promise.allSettled(this.#subs.splice(0).map((s) => s.unsubscribe()));
    const every = formatInterval(this.#options.rescanMs ?? DEFAULT_RESCAN_MS);
    this.#fallbackReason = `${reason}. Falling back to a rescan every ${every}`;
    this.emit('warning', this.#fallbackReason);
    this.emit('fallback', reason);
    this.#startPolling();
    // Changes may have been missed since the watch broke: rescan now.
    this.#changed(0);
  }

  #startPolling(): void {
    this.#mode = 'poll';
    clearInterval(this.#rescan);
    this.#rescan = setInterval(() => this.#changed(0), this.#options.rescanMs ?? DEFAULT_RESCAN_MS);
    this.#rescan.unref?.();
  }
}

let parcel: Promise<SubscribeFn> | undefined;

/** @parcel/watcher's subscribe, loaded on first use (a native addon). */
function loadParcel(): Promise<SubscribeFn> {
  parcel ??= import('@parcel/watcher').then((m) => {
    const w = (m as unknown as { default?: { subscribe: SubscribeFn }; subscribe?: SubscribeFn }).subscribe ?? (m as unknown as { default: { subscribe: SubscribeFn } }).default.subscribe;
    return w;
  });
  return parcel;
}

function formatInterval(ms: number): string {
  return ms >= 60_000 && ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}

function readLimit(name: string): string | undefined {
  try {
    return readFileSync(`/proc/sys/fs/inotify/${name}`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** True for the system limits that stop watching: inotify watches (ENOSPC), instances or files (EMFILE). */
function isLimitError(err: unknown): boolean {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string } | null)?.code;
  return code === 'ENOSPC' || code === 'EMFILE' || /no space left on device|too many open files|ENOSPC|EMFILE/i.test(message);
}

/** A clear sentence for a failure to watch `root`, with the fix for the known system limits. */
export function describeWatchError(root: string, err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as { code?: string } | null)?.code;
  if (code === 'ENOSPC' || /no space left on device|ENOSPC/i.test(message)) {
    const limit = readLimit('max_user_watches');
    return (
      `cannot watch ${root} for changes: the system's limit of inotify watches is reached` +
      `${limit ? ` (fs.inotify.max_user_watches = ${limit})` : ''}. To follow changes live, raise it: ` +
      `echo fs.inotify.max_user_watches=524288 | sudo tee /etc/sysctl.d/60-pixsearch.conf && sudo sysctl --system`
    );
  }
  if (code === 'EMFILE' || /too many open files|EMFILE/i.test(message)) {
    const limit = readLimit('max_user_instances');
    return (
      `cannot watch ${root} for changes: too many inotify instances or open files` +
      `${limit ? ` (fs.inotify.max_user_instances = ${limit})` : ''}. Raise it: ` +
      `echo fs.inotify.max_user_instances=1024 | sudo tee /etc/sysctl.d/60-pixsearch.conf && sudo sysctl --system`
    );
  }
  return `cannot watch ${root} for changes (${message})`;
}
