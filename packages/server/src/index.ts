// @pixsearch/server — the HTTP API and search page over a SearchEngine.
export { createApp, type AppOptions, type PixsearchApp } from './app.js';
export { startServer, DEFAULT_HOST, DEFAULT_PORT, type RunningServer, type StartServerOptions } from './server.js';
export type { EngineLike } from './engine-like.js';
export { generateToken, isLoopbackHost } from './security.js';
export { TOKEN_MAX_LENGTH, TOKEN_MIN_LENGTH, TOKEN_RULE, tokenProblem } from './token-rule.js';
export { LIMITS } from './schemas.js';
export { DEFAULT_SEARCH_CONCURRENCY, Limiter, OverloadedError } from './limiter.js';
export { ThumbnailCache, type ThumbnailCacheOptions } from './thumbnails.js';
export { buildOpenApi } from './openapi.js';
export { DISCOVERY_FILE, findServer, publishServer, type DiscoveryInfo, type DiscoveryMiss } from './discovery.js';
export { generateOwnerSecret } from './security.js';
export { OWNER_SECRET_HEADER } from './routes/local.js';
export type { SyncStartOptions, SyncTrigger, SyncState } from './sync-controller.js';
