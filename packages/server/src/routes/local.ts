// Routes for the `pixsearch` CLI of the user who started the server (found through the data
// directory's discovery file): warm searches with the engine's own options and local image
// paths, and syncs on behalf of `pixsearch index`. Every one needs the per-run owner secret.
import type { Hono, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import { DEFAULT_K, MAX_K, type QueryTerm, type SearchResponse } from '@pixsearch/core/engine';
import type { ServerContext } from '../context.js';
import { OWNER_SECRET_HEADER } from '../discovery.js';
import { HttpError } from '../http-errors.js';
import { LocalQueryBodySchema, LocalSyncBodySchema } from '../schemas.js';
import { tokenMatches } from '../security.js';

export { OWNER_SECRET_HEADER } from '../discovery.js';

/** True when the request carries the owner secret. */
export function isOwner(header: string | undefined, secret: string | undefined): boolean {
  return secret !== undefined && header !== undefined && tokenMatches(header, secret);
}

async function body<T>(schema: z.ZodType<T>, c: { req: { json(): Promise<unknown> } }): Promise<T> {
  let raw: unknown;
  try {
    raw = await c.req.json();
  } catch {
    raw = undefined;
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new HttpError(400, 'INVALID_ARGUMENT', `body: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** Refuses requests without the owner secret (403), whatever else they carry. */
export function ownerOnly(secret: string | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (!isOwner(c.req.header(OWNER_SECRET_HEADER), secret)) {
      return c.json({ error: { code: 'FORBIDDEN', message: 'this route is for the pixsearch CLI of the user running the server' } }, 403);
    }
    await next();
  };
}

/** `GET /api/local/hello`, `POST /api/local/query`, `POST /api/local/sync` (owner secret required). */
export function localRoutes(app: Hono, ctx: ServerContext, secret: string | undefined): void {
  app.use('/api/local/*', ownerOnly(secret));

  app.get('/api/local/hello', async (c) => {
    const s = await ctx.stats.get();
    return c.json({ pid: process.pid, version: ctx.version, dataDir: s.dataDir, sync: ctx.sync.state(), limits: { defaultK: DEFAULT_K, maxK: MAX_K } });
  });

  // The engine's own call, answered warm: the same SearchResponse an in-process engine returns.
  app.post('/api/local/query', async (c) => {
    const b = await body(LocalQueryBodySchema, c);
    const res: SearchResponse = await ctx.searchLimiter.run(() =>
      b.op === 'similar' ? ctx.engine.similar(b.id, b.options) : ctx.engine.search(b.query as string | QueryTerm[], b.options),
    );
    c.header('Cache-Control', 'no-store');
    return c.json(res);
  });

  // Starts a sync now (202 with its id), or says which one runs (409 with its id): the CLI waits for that one, then asks again.
  app.post('/api/local/sync', async (c) => {
    const b = await body(LocalSyncBodySchema, c);
    const state = ctx.sync.state();
    if (state.running) return c.json({ started: false, running: state.id, sync: state }, 409);
    const started = ctx.sync.start('cli', { roots: b.roots });
    return c.json({ started: true, syncId: started.id, sync: started }, 202);
  });
}
