/**
 * Requests that never reach a route still get kq's error shape and a 4xx, never a bare status or a 500:
 * - malformed HTTP (bad framing, oversized headers or URL) is answered on the raw socket by Fastify's
 *   `clientErrorHandler`, since Node rejects it before any request object exists;
 * - router errors (bad percent-encoding, over-long path parameters) by `frameworkErrors`;
 * - an HTTP/1.1 request without Host, which Node would answer with an empty 400, by app.ts's onRequest
 *   hook (`missingHost`);
 * - JSON bodies are UTF-8 only (a declared other charset is 415: the bytes would be misread), their nesting
 *   is bounded before parsing (very deep JSON overflows the stack in validation: 400, not 500), and
 *   `text/plain` is not accepted (415 rather than a confusing "body must be object").
 */
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { KqError } from '../errors.js';
import { nodeHttp } from '../node-http.js';
import { sendError } from './errors.js';

/** Deepest JSON nesting accepted in a request body. */
export const MAX_JSON_DEPTH = 64;

/** True when `text` nests arrays/objects deeper than `max` (strings are skipped, escapes honoured). */
export function jsonTooDeep(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92 /* \ */) i++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true;
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--;
  }
  return false;
}

function rawErrorResponse(status: number, code: string, message: string): string {
  const body = JSON.stringify({ error: { code, message } });
  return (
    `HTTP/1.1 ${status} ${nodeHttp().STATUS_CODES[status] ?? 'Error'}\r\n` +
    'Content-Type: application/json; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n` +
    'Connection: close\r\n\r\n' +
    body
  );
}

function onClientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || !socket.writable) {
    socket.destroy();
    return;
  }
  const response =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? rawErrorResponse(431, 'HEADERS_TOO_LARGE', 'The request line and headers are too large; send less.')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? rawErrorResponse(408, 'REQUEST_TIMEOUT', 'The request was not received in time.')
        : rawErrorResponse(400, 'MALFORMED_HTTP', 'The request is not valid HTTP/1.1; it was not processed.');
  // end() alone only half-closes: a client that never reads or closes kept the socket open for minutes.
  // Write the answer, then destroy the socket once it is flushed (or after a second at most).
  const timer = setTimeout(() => socket.destroy(), 1000);
  timer.unref();
  socket.end(response, () => {
    clearTimeout(timer);
    socket.destroy();
  });
}

function onFrameworkError(
  err: Error & { code?: string },
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const e =
    err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? new KqError(
          'URI_TOO_LONG',
          'A path parameter is too long; job ids and queue names are at most 200 characters.',
        )
      : new KqError('BAD_URL', 'The URL is not valid: a path segment has a broken percent-encoding.');
  sendError(request, reply, e);
}

/** Fastify options that route protocol-level errors into kq's error shape and bound slow clients. */
export function hardeningOptions(o: { headersTimeoutMs: number }): Partial<FastifyServerOptions> {
  return {
    http: {
      requireHostHeader: false,
      headersTimeout: o.headersTimeoutMs,
      connectionsCheckingInterval: 1000,
    },
    clientErrorHandler: onClientError,
    frameworkErrors: onFrameworkError,
    routerOptions: { maxParamLength: 200 },
  } as Partial<FastifyServerOptions>;
}

const CHARSET = /;\s*charset\s*=\s*"?([^";\s]+)"?/i;

/** An HTTP/1.1 request without Host (Node would answer it with an empty 400), as kq's error; else undefined. */
export function missingHost(request: FastifyRequest): KqError | undefined {
  return request.raw.httpVersion === '1.1' && !request.headers.host
    ? new KqError('MISSING_HOST', 'HTTP/1.1 requests must carry a Host header.')
    : undefined;
}

/** Installs the JSON-only body parsing on `app` (the Host check is `missingHost`, run by app.ts's hook). */
export function installJsonParsing(app: FastifyInstance, bodyLimit: number): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit }, (request, body, done) => {
    const type = request.headers['content-type'] ?? '';
    const charset = type.includes('charset') ? CHARSET.exec(type)?.[1]?.toLowerCase() : undefined;
    if (charset && charset !== 'utf-8' && charset !== 'utf8') {
      done(
        new KqError(
          'UNSUPPORTED_CHARSET',
          `Unsupported charset ${JSON.stringify(charset)}; send JSON as UTF-8.`,
        ),
        undefined,
      );
      return;
    }
    // Nesting deeper than MAX_JSON_DEPTH needs more characters than that: short bodies skip the scan.
    if ((body as string).length > MAX_JSON_DEPTH && jsonTooDeep(body as string, MAX_JSON_DEPTH)) {
      done(
        new KqError('JSON_TOO_DEEP', `The JSON body nests deeper than ${MAX_JSON_DEPTH} levels; flatten it.`),
        undefined,
      );
      return;
    }
    parseJson(request, body as string, done);
  });
}
