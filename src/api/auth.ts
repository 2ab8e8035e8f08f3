/**
 * Bearer-token auth. Tokens are compared in constant time: the candidate is written into a buffer as long
 * as the longest token (zero-padded, so `timingSafeEqual` applies to equal lengths) and compared with
 * every configured token, match or not, lengths included. No hash per request: the SHA-256 of both sides
 * (a Hash object each) was the largest piece of kq's own work per `POST /jobs` (docs/performance.md).
 * A candidate longer than every token matches none (that says only that it is longer than the longest
 * token).
 *
 * Browsers cannot send a header when a person opens `/ui` or `/docs`, so those two (and only those) also
 * accept `?token=<token>`: it is checked, swapped for an HttpOnly SameSite=Strict cookie, and the browser
 * is redirected to the same page without the token in the URL (never elsewhere: a path that resolves
 * outside /ui or /docs, e.g. `/ui/../..//evil.example`, redirects to /ui). The cookie holds its expiry and
 * an HMAC of it keyed by a hash of the token, not the token: it expires after `UI_COOKIE_MAX_AGE_S` on the
 * server's clock too, and a leaked cookie opens the dashboard but not the API. A cookie only ever
 * authorizes reads (GET, HEAD): a write through the dashboard needs the bearer token (dashboard.ts).
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ConfigError, KqError } from '../errors.js';
import { sendError } from './errors.js';

export const UI_COOKIE = 'kq_ui';
const PUBLIC_PATHS = new Set(['/healthz', '/readyz']);
const BROWSER_PATH = /^\/(ui|docs)(\/|$)/;

/** How long a dashboard cookie is valid (8 hours), in the browser and on the server. */
export const UI_COOKIE_MAX_AGE_S = 8 * 3600;

const sha256 = (s: string): Buffer => createHash('sha256').update(s).digest();
const cookieKey = (token: string): Buffer => sha256(`kq-ui-cookie\0${token}`);
const cookieMac = (key: Buffer, expires: string): Buffer =>
  createHmac('sha256', key).update(expires).digest();
/** `<expires unix s>.<hmac hex>` */
const cookieValueFor = (token: string, expires: number): string =>
  `${expires}.${cookieMac(cookieKey(token), String(expires)).toString('hex')}`;

/** True when `value` is an unexpired cookie made from one of the tokens (every key is checked). */
function validCookie(value: string, keys: readonly Buffer[], nowS: number): boolean {
  const m = /^(\d{1,12})\.([0-9a-f]{64})$/.exec(value);
  if (!m || Number(m[1]) < nowS) return false;
  const mac = Buffer.from(m[2] as string, 'hex');
  let ok = false;
  for (const k of keys) ok = timingSafeEqual(mac, cookieMac(k, m[1] as string)) || ok;
  return ok;
}

/** Where to send the browser after swapping ?token= for the cookie: the same page, or /ui. */
function redirectTarget(url: URL): string {
  return BROWSER_PATH.test(url.pathname) && !url.pathname.startsWith('//')
    ? `${url.pathname}${url.search}`
    : '/ui';
}

/** Constant-time comparison of a candidate against every token (see the top of this file). */
function tokenMatcher(tokens: readonly string[]): (candidate: string) => boolean {
  const size = Math.max(1, ...tokens.map((t) => Buffer.byteLength(t)));
  const padded = tokens.map((t) => {
    const b = Buffer.alloc(size);
    return { bytes: b, length: b.write(t) };
  });
  const scratch = Buffer.alloc(size);
  return (candidate) => {
    const length = Buffer.byteLength(candidate);
    if (length > size) return false;
    scratch.fill(0);
    scratch.write(candidate);
    let ok = false;
    for (const t of padded) ok = (timingSafeEqual(scratch, t.bytes) && length === t.length) || ok;
    return ok;
  };
}

/** Tokens from API_TOKENS (comma-separated) and API_TOKENS_FILE (one per line, `#` comments). */
export function readTokens(list: string, file: string): string[] {
  const tokens = list
    .split(',')
    .map((t) => t.trim())
    .filter(Boolean);
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError(
        `Could not read API_TOKENS_FILE (--api-tokens-file) ${JSON.stringify(file)}: ${(err as Error).message}.`,
        { option: 'api-tokens-file', value: file },
        { cause: err },
      );
    }
    for (const line of text.split(/\r?\n/)) {
      const t = line.trim();
      if (t && !t.startsWith('#')) tokens.push(t);
    }
  }
  for (const t of tokens) {
    if (t.length < 16 || /\s/.test(t)) {
      throw new ConfigError(
        `An API token (${t.length} characters) must be at least 16 characters without spaces; generate one with: openssl rand -hex 32`,
        { option: 'api-tokens', rule: 'at least 16 characters, no spaces' },
      );
    }
  }
  return tokens;
}

function unauthorized(message: string): KqError {
  return new KqError('UNAUTHORIZED', message);
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/** True: the request may go on; false: it was answered here (401/403, or the ?token= redirect). */
export type AuthCheck = (request: FastifyRequest, reply: FastifyReply) => boolean;

/**
 * A step of app.ts's onRequest hook (not a hook of its own: each hook is one more step for every
 * request) enforcing `tokens` on every route but /healthz and /readyz. Synchronous: no promise per request.
 * @example const auth = createAuthCheck(['s3cr3t-token-0123456789']); if (!auth(request, reply)) return;
 */
export function createAuthCheck(tokens: readonly string[]): AuthCheck {
  const matchesAny = tokenMatcher(tokens);
  const cookieKeys = tokens.map(cookieKey);
  return (request, reply) => {
    let answered: FastifyReply | undefined;
    try {
      answered = check(request, reply);
    } catch (err) {
      sendError(request, reply, err);
      return false;
    }
    return !answered;
  };
  function check(request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
    const q = request.url.indexOf('?');
    const path = q === -1 ? request.url : request.url.slice(0, q);
    if (PUBLIC_PATHS.has(path)) return undefined;
    const header = request.headers.authorization;
    if (header !== undefined) {
      const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
      if (m && matchesAny(m[1] as string)) return undefined;
      throw unauthorized('The bearer token is not valid.');
    }
    if (BROWSER_PATH.test(path)) {
      const query = request.query as Record<string, unknown> | undefined;
      const token = typeof query?.token === 'string' ? query.token : undefined;
      if (token !== undefined) {
        if (!matchesAny(token)) throw unauthorized('The token in ?token= is not valid.');
        const url = new URL(request.url, 'http://x');
        url.searchParams.delete('token');
        const secure = request.protocol === 'https' ? '; Secure' : '';
        const value = cookieValueFor(token, Math.floor(Date.now() / 1000) + UI_COOKIE_MAX_AGE_S);
        return reply
          .header(
            'set-cookie',
            `${UI_COOKIE}=${value}; Path=/; Max-Age=${UI_COOKIE_MAX_AGE_S}; HttpOnly; SameSite=Strict${secure}`,
          )
          .header('cache-control', 'no-store')
          .redirect(redirectTarget(url), 303);
      }
      const cookie = readCookie(request.headers.cookie, UI_COOKIE);
      if (cookie && validCookie(cookie, cookieKeys, Date.now() / 1000)) {
        if (request.method === 'GET' || request.method === 'HEAD') return undefined;
        throw new KqError(
          'FORBIDDEN',
          'The dashboard cookie only allows reading; a write action needs Authorization: Bearer <token>.',
        );
      }
      throw unauthorized(
        `${path.startsWith('/ui') ? 'The dashboard' : 'The API reference'} needs a token: open ${path}?token=<token>, or send Authorization: Bearer <token>.`,
      );
    }
    throw unauthorized('Missing Authorization: Bearer <token> header.');
  }
}
