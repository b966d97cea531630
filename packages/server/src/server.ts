import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { serve, type ServerType } from '@hono/node-server';
import { createApp, type AppOptions, type PixsearchApp } from './app.js';
import type { EngineLike } from './engine-like.js';
import { generateToken, isLoopbackHost } from './security.js';

/** Default bind address: this machine only. */
export const DEFAULT_HOST = '127.0.0.1';
/** Default port. */
export const DEFAULT_PORT = 8765;

/** Options for {@link startServer}. */
export interface StartServerOptions extends Omit<AppOptions, 'token'> {
  /** The engine to serve; owned by the caller, who closes it after `close()`. */
  engine: EngineLike;
  /** Address to bind (default `127.0.0.1`). Any non-loopback address requires a token. */
  host?: string;
  /** Port (default 8765; 0 picks a free one). */
  port?: number;
  /**
   * Access token. Required (and generated when omitted) for non-loopback hosts; optional on
   * loopback, where it is enforced when given.
   */
  token?: string;
}

/** A running server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8765`. */
  url: string;
  /** Base URL for clients on this machine (a loopback address when listening on all interfaces). */
  localUrl: string;
  /** URL to open in a browser: `url`, plus `/?token=…` when a token is required. Print it once. */
  openUrl: string;
  /** The token in force (configured or generated), or undefined when none is required. */
  token: string | undefined;
  /** True when the token was generated here (the caller should print it once). */
  tokenGenerated: boolean;
  host: string;
  port: number;
  app: PixsearchApp;
  /** Stops accepting connections, aborts a server-started sync, ends open streams; resolves when closed. Does not close the engine. Idempotent. */
  close(): Promise<void>;
}

/** A LAN IPv4 address of this machine, for the URL of a server bound to all interfaces. */
function lanAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return '127.0.0.1';
}

/** Starts the HTTP server (@hono/node-server) and resolves once it listens. */
export async function startServer(options: StartServerOptions): Promise<RunningServer> {
  const { engine, host = DEFAULT_HOST, port = DEFAULT_PORT, token: given, ...appOptions } = options;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port must be an integer in 0..65535, got ${port}`);
  const loopback = isLoopbackHost(host);
  let token = given;
  let tokenGenerated = false;
  if (token === undefined && !loopback) {
    token = generateToken();
    tokenGenerated = true;
  }
  const app = createApp(engine, { ...appOptions, ...(token === undefined ? {} : { token }) });
  const server: ServerType = await new Promise((resolve, reject) => {
    const s = serve({ fetch: app.fetch, hostname: host, port }, () => resolve(s));
    s.once('error', reject);
  });
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' || address.address.includes(':') ? `[${address.address}]` : address.address;
  const shownHost = host === '0.0.0.0' || host === '::' ? lanAddress() : urlHost;
  const url = `http://${shownHost}:${address.port}`;
  let closing: Promise<void> | undefined;
  const localUrl = host === '0.0.0.0' ? `http://127.0.0.1:${address.port}` : host === '::' ? `http://[::1]:${address.port}` : url;
  return {
    url,
    localUrl,
    openUrl: token === undefined ? url : `${url}/?token=${encodeURIComponent(token)}`,
    token,
    tokenGenerated,
    host,
    port: address.port,
    app,
    close: () =>
      (closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        await app.shutdown();
        // Keep-alive sockets and ended SSE streams must not hold the close open.
        if ('closeIdleConnections' in server) server.closeIdleConnections();
        const force = setTimeout(() => {
          if ('closeAllConnections' in server) server.closeAllConnections();
        }, 2000);
        await closed;
        clearTimeout(force);
      })()),
  };
}
