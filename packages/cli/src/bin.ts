#!/usr/bin/env node
// The `pixsearch` executable. Everything lives in main.ts; this file only runs it and exits.
import { availableParallelism } from 'node:os';
import { main } from './main.js';

// A reader that stops early (`pixsearch search … | head -1`) closes the pipe: end quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

// libuv's thread pool runs sharp's decodes (and file reads): its default of 4 threads would cap
// image decoding on a many-core machine. Set before the pool's first use; a user's value wins.
process.env.UV_THREADPOOL_SIZE ??= String(Math.min(64, Math.max(4, availableParallelism())));

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Native thread pools (model, index) can outlive the work; do not let them hold the exit.
setTimeout(() => process.exit(code), 1000).unref();
