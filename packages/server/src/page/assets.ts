import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';

/** A static file of the page, held in memory. */
export interface Asset {
  bytes: Buffer;
  mime: string;
  /** Content hash (12 hex digits), used as ETag and as the `?v=` cache-buster. */
  hash: string;
}

const MIME: Record<string, string> = {
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
  svg: 'image/svg+xml',
};

/** Names an asset may have: lower-case words, one known extension (no dots, slashes or dot-dot). */
const ASSET_NAME = /^[a-z0-9][a-z0-9-]*\.(js|css|svg)$/;

let cache: Map<string, Asset> | undefined;

/**
 * The page's static files (`app.js` and the modules it imports, `style.css`, `icon.svg`), read
 * once from the `assets` folder beside this module (copied into `dist/page/assets` by the build).
 * Only the names found there at start-up can ever be served: no path from a request reaches the
 * file system.
 */
export function pageAssets(): Map<string, Asset> {
  if (cache) return cache;
  const map = new Map<string, Asset>();
  const dir = new URL('./assets/', import.meta.url);
  for (const name of readdirSync(dir).sort()) {
    const m = ASSET_NAME.exec(name);
    if (!m) continue;
    const bytes = readFileSync(new URL(name, dir));
    map.set(name, { bytes, mime: MIME[m[1]!]!, hash: createHash('sha256').update(bytes).digest('hex').slice(0, 12) });
  }
  cache = map;
  return map;
}

/** URL of an asset with its cache-buster. */
export function assetUrl(name: string): string {
  const a = pageAssets().get(name);
  return a ? `/assets/${name}?v=${a.hash}` : `/assets/${name}`;
}

/** The page's script modules other than the entry `app.js` (preloaded so imports do not wait on each other). */
export function moduleAssets(): string[] {
  return [...pageAssets().keys()].filter((n) => n.endsWith('.js') && n !== 'app.js');
}
