/**
 * The scaler tests' client side, built the way KEDA builds it: from KEDA's own `externalscaler.proto`
 * (../shared/specs/keda, the upstream file), never from kq's definition. Plus an in-process scaler on a
 * free port, closed by the leak guard if a test forgets.
 */
import { resolve } from 'node:path';
import {
  type ChannelCredentials,
  type Client,
  credentials,
  type GrpcObject,
  loadPackageDefinition,
  type ServiceClientConstructor,
  type ServiceError,
} from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { createKedaScaler, type KedaScaler, type KedaScalerOptions } from '../../src/keda-scaler/server.js';
import { createLogger } from '../../src/log.js';
import { track } from '../helpers/leak-guard.js';
import { waitFor } from '../helpers/wait.js';

export const UPSTREAM_PROTO = resolve(import.meta.dirname, '../../../shared/specs/keda/externalscaler.proto');

const upstream = loadPackageDefinition(
  loadSync(UPSTREAM_PROTO, { keepCase: true, longs: Number, defaults: true }),
);
const ExternalScaler = (upstream.externalscaler as GrpcObject).ExternalScaler as ServiceClientConstructor;

export type Metadata = Record<string, string>;

export interface ScalerClient {
  raw: Client;
  isActive(md: Metadata): Promise<boolean>;
  getMetricSpec(md: Metadata): Promise<{ metricName: string; targetSize: number; targetSizeFloat: number }[]>;
  getMetrics(
    md: Metadata,
    metricName?: string,
  ): Promise<{ metricName: string; metricValue: number; metricValueFloat: number }[]>;
  /** Opens StreamIsActive; every pushed result lands in `results` (with its arrival time). */
  stream(md: Metadata): ActiveStream;
  close(): void;
}

export interface ActiveStream {
  results: { result: boolean; at: number }[];
  error: ServiceError | undefined;
  /** Resolves with the first pushed result at index >= `from` equal to `value`. */
  next(value: boolean, from?: number, timeoutMs?: number): Promise<{ result: boolean; at: number }>;
  cancel(): void;
}

const ref = (md: Metadata) => ({ name: 'so', namespace: 'kq', scalerMetadata: md });

type Unary = (req: unknown, cb: (err: ServiceError | null, res: never) => void) => void;

/** @example const c = scalerClient(`127.0.0.1:${scaler.port}`); await c.isActive({ queue }); */
export function scalerClient(
  address: string,
  creds: ChannelCredentials = credentials.createInsecure(),
): ScalerClient {
  const raw = track(
    `grpc client ${address}`,
    new ExternalScaler(address, creds),
    (c) => (c.getChannel().getConnectivityState(false) as number) !== 4,
    (c) => c.close(),
  );
  const call = <T>(method: string, req: unknown) =>
    new Promise<T>((res, rej) =>
      (raw[method] as Unary).call(raw, req, (err, out) => (err ? rej(err) : res(out as T))),
    );
  return {
    raw,
    isActive: async (md) => (await call<{ result: boolean }>('IsActive', ref(md))).result,
    getMetricSpec: async (md) => (await call<{ metricSpecs: never[] }>('GetMetricSpec', ref(md))).metricSpecs,
    getMetrics: async (md, metricName = '') =>
      (await call<{ metricValues: never[] }>('GetMetrics', { scaledObjectRef: ref(md), metricName }))
        .metricValues,
    stream(md) {
      const s = (raw.StreamIsActive as (req: unknown) => NodeJS.EventEmitter & { cancel(): void })(ref(md));
      const out: ActiveStream = {
        results: [],
        error: undefined,
        next: (value, from = 0, timeoutMs = 10_000) =>
          waitFor(
            `StreamIsActive to push ${value}`,
            () => out.results.slice(from).find((r) => r.result === value),
            { timeoutMs, intervalMs: 5 },
          ),
        cancel: () => s.cancel(),
      };
      s.on('data', (m: { result: boolean }) => out.results.push({ result: m.result, at: Date.now() }));
      s.on('error', (err: ServiceError) => {
        out.error = err;
      });
      return out;
    },
    close: () => raw.close(),
  };
}

/** A scaler on free ports, closed when the test ends (leak guard) unless closed before. */
export async function startScaler(
  redisUrl: string,
  opts: Partial<KedaScalerOptions> = {},
): Promise<KedaScaler> {
  let closed = false;
  const scaler = await createKedaScaler({
    redisUrl,
    port: 0,
    healthPort: 0,
    log: createLogger({ component: 'keda-scaler-test' }, 'silent'),
    ...opts,
  });
  const close = scaler.close.bind(scaler);
  scaler.close = async () => {
    if (closed) return;
    closed = true;
    await close();
  };
  return track(
    'keda scaler',
    scaler,
    () => !closed,
    (s) => s.close(),
  );
}

/** The gRPC status code of a rejected call (a failing test names what came back instead). */
export async function statusOf(p: Promise<unknown>): Promise<{ code: number; details: string }> {
  try {
    const value = await p;
    return { code: -1, details: `no error: ${JSON.stringify(value)}` };
  } catch (err) {
    const e = err as ServiceError;
    return { code: e.code, details: e.details };
  }
}
