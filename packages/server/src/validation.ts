import { zValidator } from '@hono/zod-validator';
import type { Context, ValidationTargets } from 'hono';
import type { z } from 'zod';
import type { ErrorBody } from './http-errors.js';

/** Turns zod issues into the API's 400 body, naming the field at fault. */
export function validationErrorBody(issues: readonly z.core.$ZodIssue[], fallbackField: string): ErrorBody {
  const list = issues.map((i) => ({ field: i.path.length > 0 ? i.path.map(String).join('.') : fallbackField, message: i.message }));
  const first = list[0] ?? { field: fallbackField, message: 'invalid' };
  return { error: { code: 'INVALID_ARGUMENT', message: `${first.field}: ${first.message}`, field: first.field, issues: list } };
}

/** `zValidator` with the API's error body: 400 `{ error: { code: 'INVALID_ARGUMENT', field, message, issues } }`. */
export function validate<T extends z.ZodType, Target extends keyof ValidationTargets>(target: Target, schema: T) {
  return zValidator(target, schema, (result, c: Context) => {
    if (!result.success) return c.json(validationErrorBody(result.error.issues, target), 400);
    return undefined;
  });
}
