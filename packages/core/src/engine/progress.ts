import type { SyncProgress } from './types.js';

/** Minimum interval between two progress events of one phase (the first and last always go out). */
const MIN_INTERVAL_MS = 100;

/** Longest silence of a phase with a heartbeat: its progress is re-sent at least this often. */
export const HEARTBEAT_MS = 1000;

/**
 * Tracks one phase of a sync and emits throttled progress with rate and ETA. With `heartbeat`,
 * the latest reading is re-sent every second while nothing changes (a long model batch, a model
 * load), so that a display never looks frozen; `finish()` stops it.
 */
export class PhaseProgress {
  private readonly start = performance.now();
  private lastEmit = -Infinity;
  private current: string | undefined;
  private timer: ReturnType<typeof setInterval> | undefined;
  done = 0;
  /** Embed phase: images decoded, and images run through the model (see {@link SyncProgress}). */
  decoded: number | undefined;
  embedded: number | undefined;

  constructor(
    private readonly phase: SyncProgress['phase'],
    private readonly total: number | undefined,
    private readonly emit: (p: SyncProgress) => void,
    options: { heartbeat?: boolean } = {},
  ) {
    this.send(undefined, true);
    if (options.heartbeat) {
      this.timer = setInterval(() => this.send(this.current, false, true), HEARTBEAT_MS);
      this.timer.unref?.();
    }
  }

  /** Sets the count done and emits (throttled unless `force`). */
  update(done: number, current?: string, force = false): void {
    this.done = done;
    this.send(current, force);
  }

  /** Emits the final event of the phase and stops the heartbeat. */
  finish(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.send(undefined, true);
  }

  private send(current: string | undefined, force: boolean, beat = false): void {
    const now = performance.now();
    if (current !== undefined) this.current = current;
    if (!force && !beat && now - this.lastEmit < MIN_INTERVAL_MS) return;
    if (beat && now - this.lastEmit < HEARTBEAT_MS * 0.9) return;
    this.lastEmit = now;
    const seconds = (now - this.start) / 1000;
    // While the first batches run, decoding is the only sign of work: count a decoded image as
    // half done, so that rate and ETA exist from the first second.
    const work = this.decoded !== undefined ? Math.max(this.done, (this.done + Math.min(this.decoded, this.total ?? Infinity)) / 2) : this.done;
    const rate = seconds > 0 ? work / seconds : 0;
    const left = this.total === undefined ? undefined : Math.max(0, this.total - work);
    this.emit({
      phase: this.phase,
      done: this.done,
      total: this.total,
      rate,
      etaSeconds: left === undefined ? undefined : left === 0 ? 0 : rate > 0 ? left / rate : undefined,
      ...(this.decoded === undefined ? {} : { decoded: this.decoded }),
      ...(this.embedded === undefined ? {} : { embedded: this.embedded }),
      ...(current === undefined ? {} : { current }),
    });
  }
}
