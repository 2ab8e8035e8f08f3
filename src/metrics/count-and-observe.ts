/** One recorder for the prom-client counter and histogram updated on every job or request. */
import type { Counter, Histogram } from 'prom-client';

/**
 * A recorder for one label set of a counter and a histogram: each call counts one event and observes
 * `seconds`. The labelled children come from prom-client's public `labels()` once, so a call builds no
 * label object; the values stay in prom-client (a registry reset starts them again from zero).
 * test/worker/worker-metrics.test.ts checks the scraped text against plain prom-client.
 * @example const done = countAndObserve(requests, duration, labels, labels); done(0.004);
 */
export function countAndObserve<C extends string, H extends string>(
  counterMetric: Counter<C>,
  histogramMetric: Histogram<H>,
  counterLabels: Record<C, string>,
  histogramLabels: Record<H, string>,
): (seconds: number) => void {
  const count = counterMetric.labels(counterLabels as never);
  const time = histogramMetric.labels(histogramLabels as never);
  return (seconds) => {
    count.inc();
    time.observe(seconds);
  };
}
