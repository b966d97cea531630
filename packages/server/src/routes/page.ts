import type { Hono } from 'hono';
import type { ServerContext } from '../context.js';
import { etagMatches } from './images.js';
import { pageAssets } from '../page/assets.js';
import { renderSearchPage } from '../page/search-page.js';
import { LIMITS } from '../schemas.js';

/** `GET /` (the search page) and `GET /assets/:name` (its script, styles and icon, from memory). */
export function pageRoutes(app: Hono, ctx: ServerContext): void {
  app.get('/', async (c) => {
    const s = await ctx.stats.get();
    c.header('Cache-Control', 'no-store');
    return c.html(
      renderSearchPage({
        indexed: s.images.indexed,
        model: s.model,
        backend: s.backend,
        syncing: ctx.sync.state().running,
        maxK: LIMITS.maxK,
        maxUploadBytes: ctx.maxUploadBytes,
        maxQueryChars: LIMITS.maxQueryChars,
        roots: s.roots,
      }),
    );
  });

  const serveAsset = (name: string, route: string) =>
    app.get(route, (c) => {
      const asset = pageAssets().get(name)!;
      const etag = `"${asset.hash}"`;
      const headers = {
        ETag: etag,
        // Versioned URLs (?v=<hash>) never change; anything else revalidates.
        'Cache-Control': c.req.query('v') === asset.hash ? 'public, max-age=31536000, immutable' : 'no-cache',
      };
      if (etagMatches(c.req.header('if-none-match'), etag)) return c.body(null, 304, headers);
      return c.body(new Uint8Array(asset.bytes), 200, { ...headers, 'Content-Type': asset.mime });
    });
  // Only these fixed names exist: no request path ever reaches the file system.
  for (const name of pageAssets().keys()) serveAsset(name, `/assets/${name}`);
  serveAsset('icon.svg', '/favicon.ico');
}
