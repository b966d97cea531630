import { PixsearchError } from '@pixsearch/core';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/** An error with an HTTP status, raised by the server's own checks. */
export class HttpError extends PixsearchError {
  constructor(
    readonly status: ContentfulStatusCode,
    code: string,
    message: string,
    options: { cause?: unknown; hint?: string; field?: string } = {},
  ) {
    super(code, message, options);
    this.field = options.field;
  }
  readonly field: string | undefined;
}

/** JSON body of every error response: `{ error: { code, message, field?, hint? } }`. */
export interface ErrorBody {
  error: {
    /** Stable machine-readable code, e.g. `INVALID_ARGUMENT`, `NOT_FOUND`. */
    code: string;
    message: string;
    /** The request field at fault (query parameter, form field or path parameter). */
    field?: string;
    hint?: string;
    /** Every validation problem, when there are several. */
    issues?: { field: string; message: string }[];
  };
}

const STATUS_BY_CODE: Record<string, ContentfulStatusCode> = {
  INVALID_ARGUMENT: 400,
  INVALID_VECTOR: 400,
  UNSUPPORTED_OPERATION: 400,
  NOT_FOUND: 404,
  IMAGE_DECODE: 422,
  MODEL_MISMATCH: 409,
  DIMENSION_MISMATCH: 409,
  DATA_DIR_IN_USE: 409,
  SYNC_RUNNING: 409,
  SYNC_IN_PROGRESS: 409,
  READ_ONLY: 409,
  QUERY_SYNTAX: 400,
  OVERLOADED: 503,
  DISK_FULL: 507,
  CLOSED: 503,
  ABORTED: 503,
};

/** Maps any thrown value to a status and a JSON body; unknown errors become a bare 500. */
export function errorResponse(err: unknown): { status: ContentfulStatusCode; body: ErrorBody } {
  if (err instanceof HttpError) {
    return {
      status: err.status,
      body: { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}), ...(err.hint ? { hint: err.hint } : {}) } },
    };
  }
  if (err instanceof PixsearchError) {
    return {
      status: STATUS_BY_CODE[err.code] ?? 500,
      body: { error: { code: err.code, message: err.message, ...(err.hint ? { hint: err.hint } : {}) } },
    };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: 'internal server error' } } };
}
