import type { Output } from './output.js';

/** What every command receives. */
export interface CommandContext {
  out: Output;
  /** Positional arguments in the order the command declares them (variadic ones as arrays). */
  args: unknown[];
  /** Options as parsed by cac (value options as string arrays; see config.ts). */
  flags: Record<string, unknown>;
}
