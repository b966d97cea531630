// Talking to the `pixsearch serve` that owns a data directory: warm searches, and syncs whose
// progress is followed over the server's event stream (the CLI shows it like its own).
import type { QueryTerm, SearchOptions, SearchResponse, SyncProgress, SyncSummary } from '@pixsearch/core/engine';
import { PixsearchError } from '@pixsearch/core/errors';
// Only the server's discovery module (node:http, no Hono, no engine): the CLI talks to a server without loading one.
import { OWNER_SECRET_HEADER, findServer, localRequest, type DiscoveryInfo, type ServerHello } from '@pixsearch/server/discovery';
import type { EventSourceMessage } from 'eventsource-parser/stream';
import type { Settings } from './config.js';
import type { Output } from './output.js';
import { printable } from './terminal-text.js';

/** True when process `pid` exists (EPERM: it does, as another user's). */
function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Set to 1 to never use a running server (always open the library in this process). */
export const NO_SERVER_ENV = 'PIXSEARCH_NO_SERVER';

/** A server that answers for the library, found through its discovery file. */
export class RemoteLibrary {
  constructor(
    readonly info: DiscoveryInfo,
    /** What the server said when it was found (its engine's `k` limits among others). */
    readonly hello?: ServerHello,
  ) {}

  /**
   * The live `serve` that owns `settings.dataDir`, or undefined (none, or a stale file left by a
   * crash: then the caller works in-process). Says which with `--verbose`.
   */
  static async find(out: Output, settings: Settings): Promise<RemoteLibrary | undefined> {
    if (process.env[NO_SERVER_ENV] === '1') return undefined;
    const found = await findServer(settings.dataDir);
    if ('info' in found) {
      if (out.verbose) out.info(out.ce.dim(`using the server running at ${found.info.url} (pid ${found.info.pid})`));
      return new RemoteLibrary(found.info, found.hello);
    }
    if (out.verbose && found.miss !== 'none') out.info(out.ce.dim(`ignoring ${settings.dataDir}/server.json (${found.miss}); working in-process`));
    return undefined;
  }

  /**
   * After the library turned out to be locked by process `holder`: waits for that process to
   * publish a server, which a `pixsearch serve` does right after it opens the library (before its
   * first sync). Polls every 100 ms, for at most `timeoutMs` and only while the holder lives;
   * undefined when no server came (another writer, such as an `index`, holds the library).
   */
  static async waitFor(out: Output, settings: Settings, holder: number | undefined, timeoutMs = 10_000): Promise<RemoteLibrary | undefined> {
    if (process.env[NO_SERVER_ENV] === '1') return undefined;
    // Said without --verbose too: the wait is visible (up to timeoutMs before the lock error).
    out.info(out.ce.dim(`${printable(settings.dataDir)} is locked${holder ? ` by pid ${holder}` : ''}: waiting up to ${timeoutMs / 1000} s for a starting pixsearch serve to publish its server`));
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const found = await findServer(settings.dataDir);
      if ('info' in found) {
        if (out.verbose) out.info(out.ce.dim(`using the server running at ${found.info.url} (pid ${found.info.pid})`));
        return new RemoteLibrary(found.info, found.hello);
      }
      if (holder !== undefined && !processAlive(holder)) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return undefined;
  }

  #url(p: string): URL {
    return new URL(p, this.info.url);
  }

  async #json<T>(method: 'GET' | 'POST', p: string, body?: unknown, ok: number[] = [200]): Promise<{ status: number; body: T }> {
    let res: { status: number; body: unknown };
    try {
      res = await localRequest(this.info, method, p, body);
    } catch (err) {
      throw new PixsearchError('SERVER_GONE', `the server at ${this.info.url} stopped answering`, { cause: err, hint: `run the command again (it works without a server too)` });
    }
    const data = res.body as (T & { error?: { code: string; message: string; hint?: string } }) | null;
    if (!ok.includes(res.status)) {
      const e = data?.error;
      throw new PixsearchError(e?.code ?? `HTTP_${res.status}`, e?.message ?? `the server answered HTTP ${res.status}`, e?.hint ? { hint: e.hint } : {});
    }
    return { status: res.status, body: data as T };
  }

  /** `engine.search`, answered by the server. Image terms are paths on this machine. */
  async search(query: string | QueryTerm[], options: SearchOptions = {}): Promise<SearchResponse> {
    return (await this.#json<SearchResponse>('POST', '/api/local/query', { op: 'search', query, options })).body;
  }

  /** `engine.searchByImage` for a file path. */
  searchByImage(file: string, options: SearchOptions = {}): Promise<SearchResponse> {
    return this.search([{ image: file }], options);
  }

  /** `engine.similar`. */
  async similar(id: number, options: SearchOptions = {}): Promise<SearchResponse> {
    return (await this.#json<SearchResponse>('POST', '/api/local/query', { op: 'similar', id, options })).body;
  }

  /** Images indexed in the library now. */
  async indexed(): Promise<number> {
    return (await this.#json<{ images: { indexed: number } }>('GET', '/api/status')).body.images.indexed;
  }

  /**
   * Has the server sync (`roots`, added when new), after the one it is running if any, and
   * follows it: `onProgress` gets its progress. While another sync runs (the server's startup
   * sync, the watcher's, another `index`), `onWait` is told which, `onProgress` gets that sync's
   * progress, and this one is asked for again when it ends. Resolves with the summary of this
   * command's sync; `signal` stops following (the server finishes the sync on its own).
   */
  async sync(
    roots: string[] | undefined,
    onProgress: (p: SyncProgress) => void,
    signal?: AbortSignal,
    onWait?: (running: { id: number | undefined; trigger: string | null }) => void,
  ): Promise<SyncSummary> {
    const { EventSourceParserStream } = await import('eventsource-parser/stream');
    const stream = new AbortController();
    const stop = (): void => stream.abort();
    signal?.addEventListener('abort', stop, { once: true });
    try {
      let res: Response;
      try {
        res = await fetch(this.#url('/api/sync/events'), { headers: { [OWNER_SECRET_HEADER]: this.info.secret, accept: 'text/event-stream' }, signal: stream.signal });
      } catch (err) {
        throw new PixsearchError('SERVER_GONE', `the server at ${this.info.url} stopped answering`, { cause: err });
      }
      if (!res.ok || !res.body) throw new PixsearchError(`HTTP_${res.status}`, `the server refused its event stream (HTTP ${res.status})`);
      const reader = res.body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream()).getReader();
      const next = async (): Promise<EventSourceMessage> => {
        const r = await reader.read().catch((err: unknown) => {
          if (signal?.aborted) throw new PixsearchError('ABORTED', 'stopped following the sync');
          throw new PixsearchError('SERVER_GONE', `the server at ${this.info.url} went away during the sync`, { cause: err });
        });
        if (r.done) throw new PixsearchError('SERVER_GONE', `the server at ${this.info.url} stopped before the sync finished`);
        return r.value;
      };
      // The stream is open once its first event (the state) arrives: nothing after it can be missed.
      while ((await next()).event !== 'state');
      const progress = (m: EventSourceMessage): void => {
        const p = JSON.parse(m.data) as { phase: SyncProgress['phase']; done: number; total: number | null; rate: number; etaSeconds: number | null; current?: string };
        onProgress({ ...p, total: p.total ?? undefined, etaSeconds: p.etaSeconds ?? undefined });
      };
      let mine: number | undefined;
      for (;;) {
        if (mine === undefined) {
          const started = await this.#json<{ started: boolean; syncId?: number; running?: number; sync?: { trigger?: string | null } }>(
            'POST',
            '/api/local/sync',
            { ...(roots ? { roots } : {}) },
            [202, 409],
          );
          if (started.body.started) mine = started.body.syncId;
          else {
            // Another sync runs (the startup sync, the watcher's, another index): follow it to its end, then ask again.
            onWait?.({ id: started.body.running, trigger: started.body.sync?.trigger ?? null });
            for (;;) {
              const m = await next();
              if (m.event === 'progress') progress(m);
              if (m.event === 'done' || m.event === 'error') break;
            }
            continue;
          }
        }
        const m = await next();
        if (m.event === 'progress') progress(m);
        else if (m.event === 'done') {
          const s = JSON.parse(m.data) as SyncSummary & { syncId: number };
          if (s.syncId === mine) {
            const { syncId: _id, trigger: _t, ...summary } = s as SyncSummary & { syncId: number; trigger?: string };
            void _id;
            void _t;
            return summary as SyncSummary;
          }
        } else if (m.event === 'error') {
          const e = JSON.parse(m.data) as { code: string; message: string; syncId?: number };
          if (e.syncId === mine) throw new PixsearchError(e.code, e.message);
        }
      }
    } finally {
      signal?.removeEventListener('abort', stop);
      stream.abort();
    }
  }
}
