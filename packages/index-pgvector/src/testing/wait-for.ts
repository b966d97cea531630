/**
 * Polls `fn` every `everyMs` until it returns a truthy value and resolves with it: a wait for a
 * condition another process brings about (a worker's commit, a server's answer), never a timing
 * assertion. `timeoutMs` (default 180 s) is only a safety net so a broken run fails instead of hanging.
 */
export async function waitFor<T>(what: string, fn: () => T | undefined | null | false | Promise<T | undefined | null | false>, options: { timeoutMs?: number; everyMs?: number } = {}): Promise<T> {
  const end = Date.now() + (options.timeoutMs ?? 180_000);
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, options.everyMs ?? 100));
  }
}
