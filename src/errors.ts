/**
 * kq's error classes and their codes. Every code is declared once, in `ERROR_STATUS`, with the HTTP
 * status the API answers it with; `ErrorCode` is the union of those keys, so an error with a code that
 * has no status does not compile (before, a missing code silently became 400). The API maps codes in one
 * place (`src/api/errors.ts`) and the CLI prints `message` and exits 2 for configuration errors.
 */
export const ERROR_STATUS = {
  BAD_REQUEST: 400,
  BAD_URL: 400,
  INVALID_REQUEST: 400,
  // KEDA trigger metadata that `kq keda-scaler` refuses (gRPC INVALID_ARGUMENT; never reaches HTTP).
  INVALID_METADATA: 400,
  MALFORMED_HTTP: 400,
  MALFORMED_JSON: 400,
  JSON_TOO_DEEP: 400,
  MISSING_HOST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  JOB_NOT_FOUND: 404,
  QUEUE_NOT_FOUND: 404,
  SCHEDULE_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  REQUEST_TIMEOUT: 408,
  JOB_FINISHED: 409,
  SCHEDULE_AMBIGUOUS: 409,
  BODY_TOO_LARGE: 413,
  URI_TOO_LONG: 414,
  UNSUPPORTED_CHARSET: 415,
  UNSUPPORTED_MEDIA_TYPE: 415,
  UNKNOWN_JOB_TYPE: 422,
  INVALID_PAYLOAD: 422,
  QUEUE_NOT_ALLOWED: 422,
  INVALID_PARAMETER: 422,
  QUEUE_LIMIT_REACHED: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  INVALID_SCHEDULE: 422,
  INVALID_FLOW: 422,
  HEADERS_TOO_LARGE: 431,
  INTERNAL: 500,
  CONFIG_INVALID: 500,
  REDIS_NOT_FOUND: 500,
  REDIS_UNAVAILABLE: 503,
  SHUTTING_DOWN: 503,
  OVERLOADED: 503,
} as const satisfies Record<string, number>;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class KqError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  /** `options.cause`: the error this one explains (a failed read, ioredis' error), kept for logs and debuggers. */
  constructor(
    code: ErrorCode,
    message: string,
    details: Record<string, unknown> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
  /** The HTTP status the API answers this error with. */
  get status(): number {
    return ERROR_STATUS[this.code];
  }
}

/** A flag or environment variable has a value that breaks its rule. */
export class ConfigError extends KqError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('CONFIG_INVALID', message, details, options);
  }
}

/** A job's payload fails its type's schema, or the type is unknown. */
export class ValidationError extends KqError {}

/** A job or queue does not exist. */
export class NotFoundError extends KqError {}

/** The request conflicts with the job's state (e.g. cancelling a finished job). */
export class ConflictError extends KqError {}

/**
 * Redis did not answer. `details.stored` says what is known: `false` = nothing was stored (retry is
 * safe), `'unknown'` = the command may have been applied (`details.jobId` / `jobIds` name the jobs).
 * Build it with `notSent` / `maybeSent` (src/queue/redis-errors.ts).
 */
export class RedisUnavailableError extends KqError {
  constructor(
    message = 'Redis is unavailable; nothing was stored. Retry later.',
    details: Record<string, unknown> = { stored: false },
    options?: ErrorOptions,
  ) {
    super('REDIS_UNAVAILABLE', message, details, options);
  }
}
