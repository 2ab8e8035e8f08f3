/**
 * `node:http` and `node:https`, loaded with require() on first use instead of an ES `import`.
 *
 * Why: for an ES import of a built-in module Node builds an ES namespace from its exports, reading every
 * one, and three exports of `node:http` (`WebSocket`, `CloseEvent`, `MessageEvent`) are getters that load
 * undici, and with it http2, web streams and WebCrypto. A worker that imports its health server statically
 * would compile and run all of that at every start, before it fetches its first job. require() hands back
 * the CommonJS exports object without reading the getters. `test/worker/start-modules.test.ts` checks
 * that a worker's start does not load undici.
 */
import { createRequire } from 'node:module';

const requireBuiltin = createRequire(import.meta.url);

/** `node:http`, loaded at the first call. @example nodeHttp().createServer(handler) */
export const nodeHttp = (): typeof import('node:http') => requireBuiltin('node:http');

/** `node:https`, loaded at the first call (it loads TLS). @example nodeHttps().request(url, options) */
export const nodeHttps = (): typeof import('node:https') => requireBuiltin('node:https');
