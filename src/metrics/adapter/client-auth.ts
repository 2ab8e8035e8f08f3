/**
 * Authentication as an aggregated API server. The kube-apiserver has already authenticated and authorized
 * the caller; it proxies the request with its front-proxy client certificate and names the caller in
 * `X-Remote-User` / `X-Remote-Group`. So the adapter trusts those headers only on a TLS connection whose
 * client certificate chains to the request-header CA (and, when allowed names are set, whose CN is one of
 * them) AND that names a caller in `X-Remote-User`, exactly like Kubernetes' requestheader authenticator. TLS is set up with
 * `requestCert: true, rejectUnauthorized: false` so a failed check becomes a 401 `Status`, not a reset.
 */
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

export interface ClientAuthOptions {
  /** False only in the explicit insecure dev mode. */
  required: boolean;
  /** Allowed CNs; empty = any certificate the CA signed. */
  allowedNames: readonly string[];
}

export type AuthResult =
  | { ok: true; user?: string; groups: string[]; clientCn?: string }
  | { ok: false; reason: string };

function commonName(socket: TLSSocket): string | undefined {
  const cn = socket.getPeerCertificate()?.subject?.CN as string | string[] | undefined;
  return Array.isArray(cn) ? cn[0] : cn;
}

/** The caller's identity from the proxy headers (repeated headers and comma lists both allowed). */
function identity(req: IncomingMessage): { user?: string; groups: string[] } {
  const user = req.headers['x-remote-user'];
  const groups = req.headersDistinct['x-remote-group'] ?? [];
  return {
    user: Array.isArray(user) ? user[0] : user,
    groups: groups
      .flatMap((g) => g.split(','))
      .map((g) => g.trim())
      .filter(Boolean),
  };
}

/** @example const auth = authenticate(req, { required: true, allowedNames: ['front-proxy-client'] }); */
export function authenticate(req: IncomingMessage, o: ClientAuthOptions): AuthResult {
  const socket = req.socket as TLSSocket;
  if (!o.required) return { ok: true, ...identity(req) };
  const cn = commonName(socket);
  if (!socket.authorized) {
    const why = cn
      ? `the client certificate (CN ${JSON.stringify(cn)}) is not signed by the request-header CA (${socket.authorizationError})`
      : 'no client certificate was presented';
    return { ok: false, reason: why };
  }
  if (o.allowedNames.length && (cn === undefined || !o.allowedNames.includes(cn))) {
    return {
      ok: false,
      reason: `the client certificate CN ${JSON.stringify(cn ?? '')} is not in --requestheader-allowed-names`,
    };
  }
  // Kubernetes' requestheader authenticator authenticates nobody when the username header is missing or
  // empty, whatever the certificate: a front-proxy request always names its caller.
  const who = identity(req);
  if (!who.user?.trim()) {
    return {
      ok: false,
      reason: 'the front-proxy request names no caller (X-Remote-User is missing or empty)',
    };
  }
  return { ok: true, ...who, clientCn: cn };
}
