/**
 * kq's error classes. Each has a stable `code`; the API maps codes to HTTP statuses in one place
 * (`src/api/errors.ts`) and the CLI prints `message` and exits 2 for configuration errors.
 */
export class KqError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;
  constructor(code: string, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** A flag or environment variable has a value that breaks its rule. */
export class ConfigError extends KqError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CONFIG_INVALID', message, details);
  }
}

/** A job's payload fails its type's schema, or the type is unknown. */
export class ValidationError extends KqError {}

/** A job or queue does not exist. */
export class NotFoundError extends KqError {}

/** The request conflicts with the job's state (e.g. cancelling a finished job). */
export class ConflictError extends KqError {}

/** Redis did not answer in time: nothing was stored, the caller may retry. */
export class RedisUnavailableError extends KqError {
  constructor(message = 'Redis is unavailable; nothing was stored. Retry later.', details = {}) {
    super('REDIS_UNAVAILABLE', message, details);
  }
}
