/**
 * The address a server listens on when none is configured: every address. `::` takes IPv6 and, dual-stack,
 * IPv4 too, so one default serves IPv4, IPv6-only and dual-stack clusters; on a machine without IPv6 (the
 * kernel's IPv6 off) listening on `::` fails, so there it is `0.0.0.0`.
 * @example server.listen(port, host || anyAddress())
 */
import { networkInterfaces } from 'node:os';

export function anyAddress(): '::' | '0.0.0.0' {
  const ipv6 = Object.values(networkInterfaces()).some((list) => list?.some((i) => i.family === 'IPv6'));
  return ipv6 ? '::' : '0.0.0.0';
}
