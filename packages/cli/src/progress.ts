import type { SyncProgress } from '@pixsearch/core/engine';
import cliProgress from 'cli-progress';
import type { Output } from './output.js';
import { printable } from './terminal-text.js';

/** One progress reading, whatever is being counted. */
export interface ProgressState {
  /** Short label of the current stage, e.g. `Embedding`. */
  label: string;
  done: number;
  total: number | undefined;
  /** Items (or bytes) per second. */
  rate: number;
  etaSeconds: number | undefined;
  /** Current item (file name), shown dimmed. */
  current?: string | undefined;
  /** `items` (default) or `bytes` (sizes and rates shown in MB). */
  unit?: 'items' | 'bytes';
  /** Noun for items, e.g. `images` or `files`. */
  noun?: string;
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const MB = 1024 * 1024;
function amount(n: number, unit: ProgressState['unit']): string {
  return unit === 'bytes' ? `${(n / MB).toFixed(1)}` : String(n);
}
function rateText(p: ProgressState): string {
  if (p.unit === 'bytes') return `${(p.rate / MB).toFixed(1)} MB/s`;
  return `${p.rate >= 100 ? Math.round(p.rate) : p.rate.toFixed(1)} ${p.noun ?? 'items'}/s`;
}

/** "120/500 (24%)" or "1234" when the total is unknown. */
function countText(p: ProgressState): string {
  const unit = p.unit === 'bytes' ? ' MB' : '';
  if (p.total === undefined || p.total <= 0) return `${amount(p.done, p.unit)}${unit}`;
  const pct = Math.min(100, Math.floor((100 * p.done) / p.total));
  return `${amount(p.done, p.unit)}/${amount(p.total, p.unit)}${unit} (${pct}%)`;
}

/** A plain, line-oriented description of a reading (for logs, CI and pipes). */
export function plainLine(p: ProgressState): string {
  const parts = [`${p.label}: ${countText(p)}`];
  if (p.rate > 0) parts.push(rateText(p));
  if (p.total !== undefined && p.done < p.total && p.etaSeconds !== undefined) parts.push(`ETA ${formatDuration(p.etaSeconds)}`);
  return parts.join(', ');
}

function truncateLeft(s: string, max: number): string {
  if (max <= 1) return '';
  return s.length <= max ? s : `…${s.slice(s.length - max + 1)}`;
}

/**
 * Draws progress on stderr: a live bar on a terminal, otherwise a plain line when a stage
 * starts, every `intervalMs`, and when it ends. Call {@link finish} (always, e.g. in `finally`)
 * to stop the bar's redraw timer.
 */
export class ProgressDisplay {
  private bar: cliProgress.SingleBar | undefined;
  private current: ProgressState | undefined;
  private lastPlain = 0;
  private lastPlainText = '';

  constructor(
    private readonly out: Output,
    private readonly intervalMs = 2000,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  update(p: ProgressState): void {
    if (this.current && this.current.label !== p.label) this.endStage();
    const fresh = this.current === undefined;
    this.current = p;
    if (this.out.interactive) this.draw(p);
    else {
      const now = Date.now();
      // A stage's first line only when it says something (a known total); then every intervalMs.
      if (fresh) this.lastPlain = now;
      if ((fresh && p.total !== undefined && p.total > 0) || now - this.lastPlain >= this.intervalMs) this.plain(p, now);
    }
  }

  /** Ends the current stage (prints its final line) and stops drawing. Idempotent. */
  finish(): void {
    this.endStage();
  }

  private plain(p: ProgressState, now: number): void {
    const text = plainLine(p);
    if (text === this.lastPlainText) return;
    this.lastPlain = now;
    this.lastPlainText = text;
    this.out.info(text);
  }

  private endStage(): void {
    const p = this.current;
    if (!p) return;
    const worthALine = p.done > 0 || (p.total ?? 0) > 0;
    if (this.out.interactive) {
      this.clearBar();
      if (worthALine) this.stream.write(`${this.render({ ...p, current: undefined }, this.width())}\n`);
    } else if (worthALine) this.plain(p, Date.now());
    this.current = undefined;
  }

  private width(): number {
    return Math.max(40, this.stream.columns ?? 80);
  }

  /** One line: label, bar (when the total is known), counts, rate, ETA and the current file. */
  private render(s: ProgressState, width: number): string {
    const ce = this.out.ce;
    const label = ce.cyan(s.label.padEnd(10));
    let bar = '';
    if (s.total !== undefined && s.total > 0) {
      const cells = 24;
      const filled = Math.min(cells, Math.round((cells * s.done) / s.total));
      bar = `${ce.green('█'.repeat(filled))}${ce.dim('░'.repeat(cells - filled))} `;
    }
    const parts = [countText(s)];
    if (s.rate > 0) parts.push(rateText(s));
    if (s.total !== undefined && s.etaSeconds !== undefined && s.done < s.total) parts.push(`ETA ${formatDuration(s.etaSeconds)}`);
    const head = `${label} ${bar}${parts.join(' · ')}`;
    // eslint-disable-next-line no-control-regex
    const visible = head.replace(/\x1b\[[0-9;]*m/g, '').length;
    const room = width - visible - 3;
    return s.current && room > 8 ? `${head}  ${ce.dim(truncateLeft(printable(s.current), room))}` : head;
  }

  /** Removes the live bar from the screen (cli-progress clears its line on stop). */
  private clearBar(): void {
    if (!this.bar) return;
    this.bar.stop();
    this.bar = undefined;
    this.out.setInterject(undefined);
  }

  private draw(p: ProgressState): void {
    if (this.bar) {
      this.bar.setTotal(p.total ?? 0);
      this.bar.update(p.done, { state: p });
      return;
    }
    const format = (_o: cliProgress.Options, params: cliProgress.Params, payload: { state?: ProgressState }): string =>
      payload.state ? this.render(payload.state, Math.max(40, params.maxWidth ?? this.width())) : '';
    this.bar = new cliProgress.SingleBar({
      stream: this.stream,
      format,
      hideCursor: true,
      clearOnComplete: true,
      linewrap: false,
      fps: 8,
      autopadding: false,
    });
    this.bar.start(p.total ?? 0, p.done, { state: p });
    // Messages (warnings, Ctrl-C notice) print above the bar: clear it, write, redraw.
    this.out.setInterject((text) => {
      const state = this.current;
      this.clearBar();
      this.stream.write(`${text}\n`);
      if (state) this.draw(state);
    });
  }
}

const PHASE_LABEL: Record<SyncProgress['phase'], string> = {
  scan: 'Scanning',
  hash: 'Hashing',
  'load-model': 'Loading model',
  metadata: 'Reading metadata',
  embed: 'Embedding',
  index: 'Indexing',
  done: 'Done',
};
const PHASE_NOUN: Record<SyncProgress['phase'], string> = {
  scan: 'files',
  hash: 'files',
  'load-model': 'seconds',
  metadata: 'images',
  embed: 'images',
  index: 'vectors',
  done: 'images',
};

/**
 * Feeds engine `progress` events into a {@link ProgressDisplay}: the model load with its elapsed
 * seconds, then per-image embedding with the images decoded so far; an embed phase that ran no
 * image through the model says so.
 */
export function syncProgressHandler(display: ProgressDisplay): (p: SyncProgress) => void {
  let loadStart = 0;
  return (p) => {
    if (p.phase === 'done') {
      display.finish();
      return;
    }
    if (p.phase === 'load-model') {
      if (p.done === 0 && loadStart === 0) loadStart = Date.now();
      const secs = Math.floor((Date.now() - loadStart) / 1000);
      display.update({ label: PHASE_LABEL[p.phase], noun: 'seconds', done: secs, total: undefined, rate: 0, etaSeconds: undefined, current: `${secs}s` });
      return;
    }
    loadStart = 0;
    const nothing = p.phase === 'embed' && p.total !== undefined && p.done >= p.total && p.embedded === 0;
    display.update({
      label: nothing ? 'Nothing to embed (every file skipped or already indexed; see pixsearch status)' : PHASE_LABEL[p.phase],
      noun: PHASE_NOUN[p.phase],
      done: p.done,
      total: p.total,
      rate: nothing ? 0 : p.rate,
      etaSeconds: p.etaSeconds,
      current: nothing
        ? undefined
        : p.phase === 'embed' && p.decoded !== undefined && p.decoded > p.done
          ? `decoded ${p.decoded}${p.current ? ` · ${p.current}` : ''}`
          : p.current,
    });
  };
}

/** Tracks byte counts of a model download per file, computing rate and ETA. */
export function downloadProgressHandler(display: ProgressDisplay): (p: { file: string; received: number; total: number | undefined }) => void {
  let file = '';
  let start = Date.now();
  return (p) => {
    if (p.file !== file) {
      file = p.file;
      start = Date.now();
    }
    const secs = (Date.now() - start) / 1000;
    const rate = secs > 0.2 ? p.received / secs : 0;
    const eta = p.total !== undefined && rate > 0 ? (p.total - p.received) / rate : undefined;
    display.update({ label: `Downloading ${p.file}`, done: p.received, total: p.total, rate, etaSeconds: eta, unit: 'bytes' });
  };
}
