import { InvalidArgumentError } from '@pixsearch/core';

/** Backend parameters as callers pass them (`CreateIndexOptions.params`). */
export type RawParams = Readonly<Record<string, number | string>>;

/** Throws `InvalidArgumentError` when `params` holds a key outside `known` (typos fail loudly). */
export function rejectUnknownParams(backend: string, params: RawParams, known: readonly string[]): void {
  for (const key of Object.keys(params)) {
    if (!known.includes(key)) {
      throw new InvalidArgumentError(`unknown parameter "${key}" for backend "${backend}"; known: ${known.join(', ')}`);
    }
  }
}

/** Reads an integer parameter in [min, max]; numeric strings (from CLI flags) are accepted. */
export function intParam(params: RawParams, name: string, fallback: number, min: number, max: number): number {
  const raw = params[name];
  if (raw === undefined) return fallback;
  const value = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new InvalidArgumentError(`parameter ${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** Reads a string parameter that must be one of `allowed`. */
export function enumParam<T extends string>(params: RawParams, name: string, fallback: T, allowed: readonly T[]): T {
  const raw = params[name];
  if (raw === undefined) return fallback;
  if (typeof raw !== 'string' || !(allowed as readonly string[]).includes(raw)) {
    throw new InvalidArgumentError(`parameter ${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}
