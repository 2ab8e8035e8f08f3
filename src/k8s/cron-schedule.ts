/**
 * The five-field cron schedules a CronJob takes (minute hour day-of-month month day-of-week): `kq
 * manifests --schedule` accepts what this parses, so `kq lab` can play every schedule it renders. Times
 * are ms from a time 0 that is a Monday at midnight UTC (`1970-01-05T00:00:00Z`): the lab's workload time.
 * Fields accept `*`, numbers, ranges `a-b`, steps (`*` or a range, then `/n`) and comma lists.
 */
const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

/** Workload time 0 is a Monday midnight UTC (so `0 9 * * 1-5` means weekday mornings). */
const EPOCH_MS = Date.UTC(1970, 0, 5);

function parseField(text: string, min: number, max: number, name: string): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!m) throw new Error(`cron ${name} field ${JSON.stringify(text)} is not supported`);
    const lo = m[1] === '*' ? min : Number(m[2]);
    const hi = m[1] === '*' ? max : m[3] !== undefined ? Number(m[3]) : m[4] ? max : lo;
    const step = m[4] ? Number(m[4]) : 1;
    if (lo < min || hi > max || lo > hi || step < 1) {
      throw new Error(`cron ${name} field ${JSON.stringify(text)} is out of range ${min}-${max}`);
    }
    for (let v = lo; v <= hi; v += step) out.add(name === 'day of week' && v === 7 ? 0 : v);
  }
  return out;
}

export interface CronSchedule {
  /** The first scheduled time strictly after `afterMs` (workload ms). */
  next(afterMs: number): number;
}

/** @example parseCron('0 * * * *').next(0) // 3600000: the next full hour */
export function parseCron(expr: string): CronSchedule {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`cron schedule ${JSON.stringify(expr)} must have 5 fields`);
  const sets = parts.map((p, i) => {
    const f = FIELDS[i] as (typeof FIELDS)[number];
    return parseField(p, f.min, f.max, f.name);
  });
  const [minutes, hours, doms, months, dows] = sets as [Set<number>, ...Set<number>[]];
  const domStar = parts[2] === '*';
  const dowStar = parts[4] === '*';
  return {
    next(afterMs) {
      let t = Math.floor(afterMs / 60_000) * 60_000 + 60_000;
      for (let i = 0; i < 4 * 366 * 24 * 60; i++, t += 60_000) {
        const d = new Date(EPOCH_MS + t);
        const dayOk =
          domStar || dowStar
            ? doms?.has(d.getUTCDate()) && dows?.has(d.getUTCDay())
            : doms?.has(d.getUTCDate()) || dows?.has(d.getUTCDay());
        if (
          minutes.has(d.getUTCMinutes()) &&
          hours?.has(d.getUTCHours()) &&
          months?.has(d.getUTCMonth() + 1) &&
          dayOk
        )
          return t;
      }
      throw new Error(`cron schedule ${JSON.stringify(expr)} never fires`);
    },
  };
}
