/**
 * PEM files named by TLS options (`--tls-cert-file`, ...), read at start-up: a missing or wrong file is a
 * ConfigError naming the option, its env variable and the path, never a failure on the first connection.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.js';

export const CERT_PEM = /-----BEGIN CERTIFICATE-----/;
export const KEY_PEM = /-----BEGIN (RSA |EC )?PRIVATE KEY-----/;

/** @example readPem('tls-cert-file', 'TLS_CERT_FILE', '/etc/tls/tls.crt', CERT_PEM) */
export function readPem(flag: string, env: string, path: string, marker: RegExp): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `Invalid --${flag} (env ${env}): cannot read ${JSON.stringify(path)} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); it must be a readable PEM file.`,
      { option: flag, value: path },
      { cause: err },
    );
  }
  if (!marker.test(text)) {
    throw new ConfigError(
      `Invalid --${flag} (env ${env}): ${JSON.stringify(path)} holds no PEM block matching ${marker.source}.`,
      { option: flag, value: path },
    );
  }
  return text;
}
