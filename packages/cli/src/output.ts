import { pathToFileURL } from 'node:url';
import { createColors } from 'picocolors';
import { debugDetails, describeError, errorJson } from './errors.js';
import { printable } from './terminal-text.js';

type Colors = ReturnType<typeof createColors>;

/** supports-hyperlinks' detector, once {@link loadTerminalSupport} loaded it. */
let supportsHyperlinks: ((stream: NodeJS.WriteStream) => boolean) | undefined;

/**
 * Loads the hyperlink detector when it can matter: stdout is a terminal, or `FORCE_HYPERLINK`
 * is set. Into a pipe or a file there are never links, and the module (~9 ms of CPU) stays
 * unloaded. Call before creating an {@link Output}; without it, `links` is false.
 */
export async function loadTerminalSupport(stdout: NodeJS.WriteStream = process.stdout): Promise<void> {
  if (supportsHyperlinks || (stdout.isTTY !== true && process.env.FORCE_HYPERLINK === undefined)) return;
  supportsHyperlinks = (await import('supports-hyperlinks')).createSupportsHyperlinks;
}

function shellQuote(arg: string): string {
  return /^[\w@%+=:,./~-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

function colorEnabled(stream: NodeJS.WriteStream): boolean {
  const env = process.env;
  if ('NO_COLOR' in env && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0' && env.FORCE_COLOR !== 'false') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

/**
 * Where the CLI writes. stdout carries the result only (human lines, or one JSON document with
 * `--json`); everything else — progress, warnings, hints, errors — goes to stderr, so
 * `pixsearch … --json | jq` always sees clean JSON.
 */
export class Output {
  /** Colours for text written to stdout / stderr (no-ops when that stream is not a TTY). */
  readonly c: Colors;
  readonly ce: Colors;
  /** True when stderr is an interactive terminal (progress bars allowed). */
  readonly interactive: boolean;
  /** True when stdout is a terminal that shows OSC 8 hyperlinks (FORCE_HYPERLINK=1/0 overrides). */
  readonly links: boolean;
  /** True when stdout is a terminal (not a pipe or a file). */
  readonly tty: boolean;
  /** The command line (without the program), for hints that repeat it. */
  argv: string[] = [];
  /** Hook a live progress display registers so messages print above it instead of through it. */
  private interject: ((text: string) => void) | undefined;

  constructor(
    readonly json: boolean,
    readonly debug: boolean,
    readonly verbose: boolean,
    private readonly stdout: NodeJS.WriteStream = process.stdout,
    private readonly stderr: NodeJS.WriteStream = process.stderr,
  ) {
    this.c = createColors(colorEnabled(stdout));
    this.ce = createColors(colorEnabled(stderr));
    this.interactive = stderr.isTTY === true && process.env.TERM !== 'dumb' && process.env.CI === undefined;
    this.tty = stdout.isTTY === true;
    this.links = !json && supportsHyperlinks !== undefined && supportsHyperlinks(stdout);
  }

  /**
   * `text` as an OSC 8 hyperlink to the local file `absPath` when stdout shows links, else `text`.
   * `text` must already be printable; the URL is percent-encoded, so no control character gets through.
   */
  fileLink(text: string, absPath: string): string {
    if (!this.links) return text;
    const url = pathToFileURL(absPath).href;
    return `\u001b]8;;${url}\u001b\\${text}\u001b]8;;\u001b\\`;
  }

  /** A line of the human-readable result (stdout). Dropped in `--json` mode. */
  line(text = ''): void {
    if (!this.json) this.stdout.write(`${text}\n`);
  }

  /** The JSON result (stdout), only in `--json` mode. */
  result(value: unknown): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /**
   * One event of a command that keeps running (`index --watch --json`): a compact JSON object on
   * a line of its own (NDJSON), so a reader can act on each line as it comes. Only in `--json` mode.
   */
  event(value: unknown): void {
    if (this.json) this.stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** A status message for humans (stderr). */
  info(text: string): void {
    this.err(text);
  }

  /** Extra detail shown with `--verbose` (stderr). */
  detail(text: string): void {
    if (this.verbose) this.err(this.ce.dim(text));
  }

  /** A warning (stderr); `text` is plain (no colours): its control characters are escaped. */
  warn(text: string): void {
    this.err(`${this.ce.yellow('warning:')} ${printable(text)}`);
  }

  /** Reports a failure: one line plus a hint; the stack only with `--debug`. */
  error(err: unknown): void {
    const { code, message, hint } = describeError(err);
    if (this.json) {
      this.err(JSON.stringify(errorJson(err)));
    } else {
      this.err(`${this.ce.red(this.ce.bold('error:'))} ${printable(message)}`);
      // A hint may hold several lines (download instructions): each is escaped on its own.
      if (hint) this.err(`${this.ce.dim('hint:')} ${hint.split('\n').map(printable).join('\n')}`);
      if (code === 'MODEL_DOWNLOAD') {
        const prog = process.env.PIXSEARCH_PROG || 'pixsearch';
        const rerun = this.argv.length > 0 && this.argv[0] !== 'model' ? `${prog} ${this.argv.map(shellQuote).join(' ')} --model ./models/tiny` : `${prog} serve ~/Pictures --model ./models/tiny`;
        this.err(`${this.ce.dim('hint:')} or pass a model bundle folder you already have: --model <folder>`);
        this.err(`${this.ce.dim('hint:')} to try pixsearch offline right now, with a generated model (random weights: it all works, but results mean nothing):`);
        this.err(`        ${prog} model generate --preset tiny --out ./models/tiny`);
        this.err(`        ${rerun}`);
      }
    }
    if (this.debug) this.err(this.ce.dim(debugDetails(err)));
  }

  /** Routes stderr messages through a live progress display (or back to plain writes with `undefined`). */
  setInterject(fn: ((text: string) => void) | undefined): void {
    this.interject = fn;
  }

  private err(text: string): void {
    if (this.interject) this.interject(text);
    else this.stderr.write(`${text}\n`);
  }
}
