import type { Hono } from 'hono';
import { streamSSE } from 'hono/streaming';
import type { ServerContext } from '../context.js';
import { HttpError } from '../http-errors.js';
import { LIMITS } from '../schemas.js';

/** Skipped files listed in `/api/status` (the total is reported separately). */
const MAX_SKIPPED_LISTED = 200;
/** Minimum time between two progress events to one listener, ms. */
const PROGRESS_INTERVAL_MS = 100;

/** `GET /api/status`, `POST /api/sync`, `GET /api/sync/events`. */
export function syncRoutes(app: Hono, ctx: ServerContext): void {
  app.get('/api/status', async (c) => {
    const s = await ctx.stats.get();
    c.header('Cache-Control', 'no-store');
    return c.json({
      version: ctx.version,
      model: s.model,
      dimension: s.dimension,
      backend: s.backend,
      backendParams: s.backendParams,
      roots: s.roots,
      images: s.images,
      indexSize: s.indexSize,
      lastSync: s.lastSync,
      skipped: s.skipped.slice(0, MAX_SKIPPED_LISTED),
      skippedTotal: s.skipped.length,
      dataDirBytes: s.dataDirBytes,
      sync: ctx.sync.state(),
      syncListeners: ctx.sync.subscriberCount,
      limits: {
        maxK: LIMITS.maxK,
        maxOffset: LIMITS.maxOffset,
        maxQueryChars: LIMITS.maxQueryChars,
        maxUploadBytes: ctx.maxUploadBytes,
        thumbnailSizes: [...LIMITS.thumbnailSizes],
      },
    });
  });

  app.post('/api/sync', (c) => {
    const state = ctx.sync.start();
    return c.json({ started: true as const, sync: state }, 202);
  });

  app.get('/api/sync/events', (c) => {
    if (ctx.sync.subscriberCount >= ctx.maxSseClients) throw new HttpError(503, 'OVERLOADED', 'too many sync listeners');
    const sub = ctx.sync.subscribe();
    c.header('X-Accel-Buffering', 'no');
    return streamSSE(c, async (stream) => {
      stream.onAbort(() => sub.close());
      await stream.writeSSE({ event: 'state', data: JSON.stringify(ctx.sync.state()), retry: 3000 });
      let lastProgress = 0;
      while (!stream.aborted && !sub.closed) {
        const msg = await sub.next(ctx.heartbeatMs);
        if (stream.aborted) break;
        if (msg === undefined) {
          if (sub.closed) break;
          await stream.write(': ping\n\n');
          continue;
        }
        if (msg.event === 'progress') {
          const wait = lastProgress + PROGRESS_INTERVAL_MS - Date.now();
          if (wait > 0) await stream.sleep(wait);
          lastProgress = Date.now();
        }
        await stream.writeSSE({ event: msg.event, data: JSON.stringify(msg.data) });
      }
      sub.close();
    });
  });
}
