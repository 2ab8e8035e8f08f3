/**
 * `kq dev` shows its children's JSON log lines as short human lines, prefixed with the child's name:
 * `[worker-1] 22:41:03 info  job completed jobId=42 type=sleep durationMs=5003`.
 */
const SHOWN = ['jobId', 'type', 'durationMs', 'attempt', 'error', 'err', 'reason'] as const;

export function formatLogLine(name: string, line: string): string {
  const tag = `[${name}]`;
  let l: Record<string, unknown>;
  try {
    l = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${tag} ${line}`;
  }
  if (typeof l !== 'object' || l === null) return `${tag} ${line}`;
  const time = typeof l.time === 'string' ? l.time.slice(11, 19) : '';
  const level = String(l.level ?? '').padEnd(5);
  let msg = String(l.msg ?? '');
  const req = l.req as { method?: string; url?: string } | undefined;
  const res = l.res as { statusCode?: number } | undefined;
  if (l.event === 'http.request') msg = `${l.method} ${l.url} -> ${l.status}`;
  else if (req?.method) msg = `-> ${req.method} ${req.url}`;
  else if (res?.statusCode) msg = `<- ${res.statusCode} (${Number(l.responseTime ?? 0).toFixed(1)} ms)`;
  const extra = SHOWN.filter((k) => l[k] !== undefined && l[k] !== null)
    .map((k) => `${k}=${typeof l[k] === 'object' ? JSON.stringify(l[k]) : String(l[k])}`)
    .join(' ');
  return `${tag} ${time} ${level} ${msg}${extra ? ` ${extra}` : ''}`;
}
