/**
 * The wire contract and the protocol's edges: kq's descriptor against KEDA's proto, many ScaledObjects
 * on one connection, push activation, malformed requests answered with gRPC errors.
 */
import { status } from '@grpc/grpc-js';
import { fromJSON, loadSync } from '@grpc/proto-loader';
import { describe, expect, it } from 'vitest';
import { EXTERNAL_SCALER_DESCRIPTOR, LOADER_OPTIONS } from '../../src/keda-scaler/contract.js';
import { useTestQueue } from '../helpers/context.js';
import { scalerClient, startScaler, statusOf, UPSTREAM_PROTO } from './scaler-fixture.js';

type Described = { type?: { field?: unknown[] }; requestType?: unknown; [k: string]: unknown };

/** What decides the wire format: field names, numbers, types, labels; method paths and streaming. */
function wireShape(def: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(def)) {
    const v = value as Described;
    if (v.type?.field) {
      out[name] = (v.type.field as Record<string, unknown>[]).map((f) => [
        f.name,
        f.number,
        f.type,
        f.label,
        f.typeName,
      ]);
    } else {
      out[name] = Object.fromEntries(
        Object.entries(v as Record<string, Record<string, unknown>>).map(([m, d]) => [
          m,
          [d.path, d.requestStream, d.responseStream, d.originalName],
        ]),
      );
    }
  }
  return out;
}

describe('wire contract', () => {
  it('kq’s descriptor matches KEDA’s externalscaler.proto field for field', () => {
    const upstream = wireShape(loadSync(UPSTREAM_PROTO, LOADER_OPTIONS) as never);
    const kq = wireShape(fromJSON(EXTERNAL_SCALER_DESCRIPTOR as never, LOADER_OPTIONS) as never);
    expect(Object.keys(kq).sort()).toEqual(Object.keys(upstream).sort());
    expect(kq).toEqual(upstream);
  });
});

describe('one scaler, one connection, many ScaledObjects', () => {
  it('answers each trigger with its own queue and pushes activation on each stream', async () => {
    const queues = Array.from({ length: 12 }, () => useTestQueue());
    const first = queues[0];
    if (!first) throw new Error('no queues');
    const scaler = await startScaler(first.redisUrl);
    const client = scalerClient(`127.0.0.1:${scaler.port}`);
    for (const [i, t] of queues.entries()) {
      for (let j = 0; j < i; j++) await t.bull.add('work', {});
    }
    const values = await Promise.all(queues.map((t) => client.getMetrics({ queue: t.queue })));
    expect(values.map((v) => v[0]?.metricValue)).toEqual(queues.map((_, i) => i));
    const streams = queues.map((t) => client.stream({ queue: t.queue }));
    await Promise.all(streams.map((s, i) => s.next(i > 0)));
    // Activation of an idle queue: one job added, its stream (and only its) pushes true.
    const idle = streams[0];
    if (!idle) throw new Error('no stream');
    const added = Date.now();
    await first.bull.add('work', {});
    const { at } = await idle.next(true, 1, 5000);
    expect(at - added).toBeLessThan(2000);
    expect(streams.slice(1).every((s) => s.results.length === 1)).toBe(true);
    for (const s of streams) s.cancel();
    client.close();
    await scaler.close();
  });
});

describe('malformed requests get gRPC errors and the scaler keeps serving', () => {
  it('bad metadata -> INVALID_ARGUMENT, unknown queue -> NOT_FOUND, StreamMetricSpec -> UNIMPLEMENTED', async () => {
    const t = useTestQueue();
    await t.bull.add('work', {});
    const scaler = await startScaler(t.redisUrl);
    const c = scalerClient(`127.0.0.1:${scaler.port}`);
    const invalid: [Record<string, string>, RegExp][] = [
      [{}, /queue \(missing\) is required/],
      [{ queue: 'has space' }, /queue \("has space"\) must be 1-100/],
      [{ queue: t.queue, targetPerWorker: '0' }, /targetPerWorker \("0"\) must be a number above 0/],
      [{ queue: t.queue, targetPerWorker: 'lots' }, /targetPerWorker/],
      [{ queue: t.queue, metric: 'cpu' }, /metric \("cpu"\) must be one of backlog, oldestWaitingSeconds/],
      [{ queue: t.queue, targetPerWoker: '5' }, /targetPerWoker .* is not a kq scaler key/],
      [{ queue: t.queue, prefix: 'a b' }, /prefix/],
    ];
    for (const [md, message] of invalid) {
      for (const call of [c.isActive(md), c.getMetrics(md), c.getMetricSpec(md)]) {
        const s = await statusOf(call);
        expect(s.code, JSON.stringify(md)).toBe(status.INVALID_ARGUMENT);
        expect(s.details).toMatch(message);
      }
    }
    const missing = await statusOf(c.getMetrics({ queue: 'no-such-queue-kq' }));
    expect(missing.code).toBe(status.NOT_FOUND);
    expect(missing.details).toMatch(/no-such-queue-kq.*does not exist under prefix "bull"/);
    expect((await statusOf(c.isActive({ queue: t.queue, prefix: 'other' }))).code).toBe(status.NOT_FOUND);
    const wrongName = await statusOf(c.getMetrics({ queue: t.queue }, 'kq-backlog-someone-else'));
    expect(wrongName.code).toBe(status.INVALID_ARGUMENT);
    expect(wrongName.details).toMatch(/is not served for this trigger/);
    const badStream = c.stream({ queue: '' });
    await expect.poll(() => badStream.error?.code).toBe(status.INVALID_ARGUMENT);
    const methods = c.raw as unknown as Record<string, (r: unknown) => NodeJS.EventEmitter>;
    const specStream = methods.StreamMetricSpec?.call(c.raw, { scalerMetadata: { queue: t.queue } });
    if (!specStream) throw new Error('the upstream proto has no StreamMetricSpec');
    const specErr = await new Promise<{ code: number }>((resolve) => specStream.on('error', resolve));
    expect(specErr.code).toBe(status.UNIMPLEMENTED);
    // KEDA's `<key>FromEnv` form arrives with the value it read from the workload's env.
    expect(await c.isActive({ queueFromEnv: t.queue, prefixFromEnv: t.prefix })).toBe(true);
    const both = await statusOf(c.isActive({ queue: t.queue, queueFromEnv: t.queue }));
    expect(both.details).toMatch(/queueFromEnv .* conflicts with queue/);
    // Still serving, with the right answers.
    expect(await c.isActive({ queue: t.queue })).toBe(true);
    const [spec] = await c.getMetricSpec({ queue: t.queue, targetPerWorker: '2.5' });
    expect(spec).toEqual({ metricName: `kq-backlog-${t.queue}`, targetSize: 3, targetSizeFloat: 2.5 });
    c.close();
    await scaler.close();
  });
});
