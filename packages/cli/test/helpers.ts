// Test helpers: run the real CLI in a child process (image files come from @pixsearch/core/testing).
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(here, '../../..');
export const BIN = join(REPO, 'packages/cli/src/bin.ts');
const TSX = pathToFileURL(join(REPO, 'node_modules/tsx/dist/loader.mjs')).href;
// The server's page is .tsx with hono/jsx: tell tsx which JSX runtime to use.
const TSCONFIG = join(REPO, 'packages/server/tsconfig.json');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  cwd?: string;
  /** Added to a clean environment (no PIXSEARCH_* from the outside). */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** The CLI sends itself SIGINT right after its first stderr line matching this (see fixtures/interrupt-on.mjs). */
  interruptOn?: RegExp;
  /** The CLI's first call of this engine method waits for SIGUSR2 (see fixtures/hold-first-call.mjs). */
  holdFirst?: 'sync' | 'stats';
  /** The CLI writes the modules it loaded to this JSON file when it exits (see fixtures/record-modules.mjs). */
  recordModulesTo?: string;
}

export function childEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('PIXSEARCH_') && !k.startsWith('XDG_') && k !== 'FORCE_COLOR') env[k] = v;
  env.NO_COLOR = '1';
  env.TSX_TSCONFIG_PATH = TSCONFIG;
  // No network in tests: a missing hub model fails at once with the offline instructions.
  env.PIXSEARCH_OFFLINE = '1';
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** The command line that runs the CLI from its sources (node and its arguments, without the CLI's own). */
export const CLI_COMMAND = [process.execPath, '--conditions=@pixsearch/source', '--import', TSX, BIN];

/** Starts the CLI (TypeScript sources through tsx, no build needed). */
export function spawnCli(args: string[], opts: CliOptions = {}): ChildProcess {
  const preload = [
    ...(opts.interruptOn ? ['--import', pathToFileURL(join(here, 'fixtures/interrupt-on.mjs')).href] : []),
    ...(opts.holdFirst ? ['--import', pathToFileURL(join(here, 'fixtures/hold-first-call.mjs')).href] : []),
    ...(opts.recordModulesTo ? ['--import', pathToFileURL(join(here, 'fixtures/record-modules.mjs')).href] : []),
  ];
  return spawn(process.execPath, ['--conditions=@pixsearch/source', '--import', TSX, ...preload, BIN, ...args], {
    cwd: opts.cwd ?? REPO,
    env: childEnv({
      ...opts.env,
      ...(opts.interruptOn ? { TEST_INTERRUPT_ON: opts.interruptOn.source } : {}),
      ...(opts.recordModulesTo ? { TEST_RECORD_MODULES: opts.recordModulesTo } : {}),
      ...(opts.holdFirst ? { TEST_HOLD_METHOD: opts.holdFirst } : {}),
    }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** Runs the CLI to completion and collects its output. */
export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const child = spawnCli(args, opts);
  return collect(child, opts.timeoutMs ?? 90_000);
}

export function collect(child: ChildProcess, timeoutMs = 90_000): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI timed out after ${timeoutMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

/** Waits until the child's stderr (accumulated) matches `re`. */
export function waitForStderr(child: ChildProcess, re: RegExp, timeoutMs = 60_000): Promise<string> {
  let buf = '';
  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${re} on stderr within ${timeoutMs} ms; got: ${buf}`)), timeoutMs);
    const onClose = (code: number | null): void => {
      clearTimeout(timer);
      reject(new Error(`the CLI exited (code ${code}) before printing ${re}; stderr: ${buf}`));
    };
    const onData = (d: Buffer | string): void => {
      buf += d.toString();
      if (re.test(buf)) {
        clearTimeout(timer);
        child.stderr?.off('data', onData);
        child.off('close', onClose);
        resolvePromise(buf);
      }
    };
    child.stderr?.on('data', onData);
    child.once('close', onClose);
  });
}
