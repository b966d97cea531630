#!/usr/bin/env node
// The `pixsearch` executable. Everything lives in main.ts; this file only runs it and exits.
import { main } from './main.js';

// A reader that stops early (`pixsearch search … | head -1`) closes the pipe: end quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw err;
  });
}

const code = await main(process.argv.slice(2));
process.exitCode = code;
// Native thread pools (model, index) can outlive the work; do not let them hold the exit.
setTimeout(() => process.exit(code), 1000).unref();
