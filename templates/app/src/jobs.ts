/**
 * The handlers module: every job type this application runs. kq's worker and API load it
 * (`HANDLERS=dist/jobs.js`); the API validates each submitted payload with the same schema.
 */
import { defineJob, z } from 'kq';

/** Stands in for a database query: the customer's usage on one day of the month. */
function usageOn(customerId: string, day: number): number {
  let h = day;
  for (const c of customerId) h = (h * 31 + c.charCodeAt(0)) % 1000;
  return h % 100;
}

export const report = defineJob({
  name: 'report',
  description: 'Sums a customer’s usage over one month.',
  schema: z.object({
    customerId: z.string().min(1).describe('whose usage'),
    month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be YYYY-MM'),
  }),
  options: { attempts: 3, timeoutMs: 60_000 },
  async handler({ data, signal, progress, log }) {
    const year = Number(data.month.slice(0, 4));
    const month = Number(data.month.slice(5, 7));
    const days = new Date(Date.UTC(year, month, 0)).getUTCDate();
    let total = 0;
    for (let day = 1; day <= days; day++) {
      // Long work checks its signal: it fires on timeout, on cancel and at a shutdown deadline.
      signal.throwIfAborted();
      total += usageOn(data.customerId, day);
      if (day % 10 === 0) await progress(Math.round((day / days) * 100));
    }
    log.info({ event: 'report.done', customerId: data.customerId, days }, 'report done');
    return { customerId: data.customerId, month: data.month, days, total };
  },
});
