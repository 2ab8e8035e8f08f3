/**
 * The ONE place errors become HTTP responses, always `{"error": {"code", "message", ...details}}`.
 * kq's error classes map by code (their status is declared with the code, in src/errors.ts); Fastify's own errors (schema validation, content type, body limit,
 * malformed JSON, prototype poisoning) map to 4xx here too; a Redis outage maps to 503 + Retry-After.
 * Anything else is a bug: 500 INTERNAL, logged with its stack, with no internals in the body.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KqError, RedisUnavailableError } from '../errors.js';
import { toUnavailable } from '../queue/redis-errors.js';

/** Fastify error code -> [status, kq code, message]. */
const FASTIFY_ERRORS: Record<string, [number, string, string]> = {
  FST_ERR_CTP_INVALID_JSON_BODY: [
    400,
    'MALFORMED_JSON',
    'The request body is not valid JSON, or it holds a forbidden key (__proto__, or constructor.prototype).',
  ],
  FST_ERR_CTP_EMPTY_JSON_BODY: [
    400,
    'MALFORMED_JSON',
    'The body is empty but Content-Type is application/json; send a JSON object.',
  ],
  FST_ERR_CTP_BODY_TOO_LARGE: [413, 'BODY_TOO_LARGE', 'The request body is larger than the limit.'],
  FST_ERR_CTP_INVALID_MEDIA_TYPE: [
    415,
    'UNSUPPORTED_MEDIA_TYPE',
    'Unsupported Content-Type; send application/json.',
  ],
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: [400, 'BAD_REQUEST', 'Content-Length does not match the body.'],
  FST_ERR_CTP_INVALID_TYPE: [400, 'BAD_REQUEST', 'The Content-Type header is invalid.'],
};

/** What a client should do about a 503 whose outcome is unknown (the layer knows nothing of HTTP). */
function unavailableBody(e: RedisUnavailableError): ErrorBody {
  const d = e.details;
  let message = e.message;
  if (d.stored === 'unknown' && typeof d.jobId === 'string') {
    message += ` GET /jobs/${d.jobId} tells which; a retry with the same Idempotency-Key stores it at most once.`;
  } else if (d.stored === 'unknown') {
    message +=
      ' GET /jobs/<id> tells which; a retry with the same Idempotency-Key stores a job at most once.';
  }
  return { error: { ...d, code: e.code, message } };
}

export interface ErrorBody {
  error: { code: string; message: string; [detail: string]: unknown };
}

function validationIssues(err: FastifyError): { path: string; message: string }[] {
  return (err.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>;
    const where = `${err.validationContext ?? 'body'}${(v.instancePath ?? '').replace(/\//g, '.')}`;
    if (typeof params.additionalProperty === 'string') {
      return { path: `${where}.${params.additionalProperty}`, message: 'is not a known field' };
    }
    if (typeof params.missingProperty === 'string') {
      return { path: `${where}.${params.missingProperty}`, message: 'is required' };
    }
    return { path: where, message: v.message ?? 'is invalid' };
  });
}

/** Turns any error into a status and a body in kq's shape. */
export function toHttpError(err: unknown, bodyLimit: number): { status: number; body: ErrorBody } {
  const unavailable = toUnavailable(err);
  if (unavailable instanceof RedisUnavailableError) {
    return { status: 503, body: unavailableBody(unavailable) };
  }
  if (err instanceof KqError) {
    return { status: err.status, body: { error: { ...err.details, code: err.code, message: err.message } } };
  }
  const fe = err as FastifyError;
  if (fe?.validation) {
    const issues = validationIssues(fe);
    return {
      status: 400,
      body: {
        error: {
          code: 'INVALID_REQUEST',
          message: `The request is invalid: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}.`,
          issues,
        },
      },
    };
  }
  const known = fe?.code ? FASTIFY_ERRORS[fe.code] : undefined;
  if (known) {
    const [status, code, message] = known;
    const extra = status === 413 ? { limitBytes: bodyLimit } : {};
    const text = status === 413 ? `${message} The limit is ${bodyLimit} bytes (BODY_LIMIT).` : message;
    return { status, body: { error: { code, message: text, ...extra } } };
  }
  if (err instanceof SyntaxError) {
    return {
      status: 400,
      body: { error: { code: 'MALFORMED_JSON', message: 'The request body is not valid JSON.' } },
    };
  }
  const status = typeof fe?.statusCode === 'number' ? fe.statusCode : 500;
  if (status >= 400 && status < 500) {
    return { status, body: { error: { code: 'BAD_REQUEST', message: fe.message } } };
  }
  return {
    status: 500,
    body: { error: { code: 'INTERNAL', message: 'Internal error; see the server log.' } },
  };
}

/**
 * Sends `err` as kq's error response. Hooks call this instead of throwing: a thrown error goes to the
 * error handler of the route's own context, and plugins such as bull-board install their own there.
 */
export function sendError(
  request: FastifyRequest,
  reply: FastifyReply,
  err: unknown,
  bodyLimit = 0,
): FastifyReply {
  const { status, body } = toHttpError(err, bodyLimit);
  if (status >= 500 && status !== 503) request.log.error({ reqId: request.id, err }, 'request failed');
  else if (status === 503)
    request.log.warn(
      { reqId: request.id, code: body.error.code, err: String((err as Error)?.message) },
      'unavailable',
    );
  if (status === 503) reply.header('retry-after', '1');
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="kq"');
  return reply.code(status).type('application/json; charset=utf-8').send(body);
}

/** Installs the error and not-found handlers on `app` (children inherit them). */
export function installErrorHandling(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err: unknown, request: FastifyRequest, reply: FastifyReply) =>
    sendError(request, reply, err, bodyLimit),
  );
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0];
    const body: ErrorBody = {
      error: {
        code: 'ROUTE_NOT_FOUND',
        message: `No route ${request.method} ${path}; see /docs or /openapi.json for the routes.`,
      },
    };
    return reply.code(404).send(body);
  });
}
