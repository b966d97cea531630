import { EXIT } from './errors.js';
import type { Output } from './output.js';

/**
 * Turns the first Ctrl-C (SIGINT) or SIGTERM into an abort of `controller` so the running sync
 * stops after its current batch and keeps what it committed; a second Ctrl-C quits at once.
 * Returns a function that removes the handlers.
 */
export function abortOnInterrupt(out: Output, controller: AbortController, what: string): () => void {
  let count = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    count++;
    if (count === 1) {
      out.info(out.ce.yellow(`\n${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping ${what} after the current batch (Ctrl-C again to quit now)…`));
      controller.abort();
    } else {
      out.info(out.ce.red('Quitting now; work committed so far is kept.'));
      process.exit(EXIT.interrupted);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** Resolves on the first SIGINT or SIGTERM (a long-running `serve`). */
export function untilInterrupted(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const onSignal = (s: NodeJS.Signals): void => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(s);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
