import type { SyncProgress } from './types.js';

/** Minimum interval between two progress events of one phase (the first and last always go out). */
const MIN_INTERVAL_MS = 100;

/** Tracks one phase of a sync and emits throttled progress with rate and ETA. */
export class PhaseProgress {
  private readonly start = performance.now();
  private lastEmit = -Infinity;
  done = 0;

  constructor(
    private readonly phase: SyncProgress['phase'],
    private readonly total: number | undefined,
    private readonly emit: (p: SyncProgress) => void,
  ) {
    this.send(undefined, true);
  }

  /** Sets the count done and emits (throttled unless `force`). */
  update(done: number, current?: string, force = false): void {
    this.done = done;
    this.send(current, force);
  }

  /** Emits the final event of the phase. */
  finish(): void {
    this.send(undefined, true);
  }

  private send(current: string | undefined, force: boolean): void {
    const now = performance.now();
    if (!force && now - this.lastEmit < MIN_INTERVAL_MS) return;
    this.lastEmit = now;
    const seconds = (now - this.start) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const left = this.total === undefined ? undefined : Math.max(0, this.total - this.done);
    this.emit({
      phase: this.phase,
      done: this.done,
      total: this.total,
      rate,
      etaSeconds: left === undefined ? undefined : left === 0 ? 0 : rate > 0 ? left / rate : undefined,
      ...(current === undefined ? {} : { current }),
    });
  }
}
