import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** A static file of the page, held in memory. */
export interface Asset {
  bytes: Buffer;
  mime: string;
  /** Content hash (12 hex digits), used as ETag and as the `?v=` cache-buster. */
  hash: string;
}

const FILES: Record<string, string> = {
  'app.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
  'icon.svg': 'image/svg+xml',
};

let cache: Map<string, Asset> | undefined;

/**
 * The page's static files (`app.js`, `style.css`, `icon.svg`), read once from the `assets`
 * folder beside this module (copied into `dist/page/assets` by the build). Only these names
 * can ever be served: no path from a request reaches the file system.
 */
export function pageAssets(): Map<string, Asset> {
  if (cache) return cache;
  const map = new Map<string, Asset>();
  for (const [name, mime] of Object.entries(FILES)) {
    const bytes = readFileSync(new URL(`./assets/${name}`, import.meta.url));
    map.set(name, { bytes, mime, hash: createHash('sha256').update(bytes).digest('hex').slice(0, 12) });
  }
  cache = map;
  return map;
}

/** URL of an asset with its cache-buster. */
export function assetUrl(name: string): string {
  const a = pageAssets().get(name);
  return a ? `/assets/${name}?v=${a.hash}` : `/assets/${name}`;
}
