/**
 * An OTLP/HTTP trace receiver for tests: a plain HTTP server on a free port that takes
 * `POST /v1/traces` in either encoding (`application/json`, or `application/x-protobuf` read by a
 * small decoder of the protobuf wire format for the fields tests look at) and keeps the spans.
 */
import { createServer, type Server } from 'node:http';
import { track } from './leak-guard.js';
import { waitFor } from './wait.js';

export type AttrValue = string | number | boolean;

export interface ReceivedSpan {
  service: string;
  traceId: string;
  spanId: string;
  /** '' for a root span. */
  parentSpanId: string;
  name: string;
  /** OTLP SpanKind: 1 internal, 2 server, 3 client, 4 producer, 5 consumer. */
  kind: number;
  attributes: Record<string, AttrValue>;
  /** OTLP status code: 0 unset, 1 ok, 2 error. */
  status: number;
}

export interface OtlpReceiver {
  /** For OTEL_EXPORTER_OTLP_ENDPOINT (the exporter appends /v1/traces). */
  url: string;
  spans: ReceivedSpan[];
  /** Content types of the requests received. */
  contentTypes: string[];
  waitForSpans(what: string, match: (s: ReceivedSpan[]) => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

// --- OTLP/JSON -----------------------------------------------------------------------------------

// biome-ignore lint/suspicious/noExplicitAny: OTLP JSON as received
type Json = any;

function jsonValue(v: Json): AttrValue {
  if ('stringValue' in v) return v.stringValue;
  if ('boolValue' in v) return v.boolValue;
  if ('intValue' in v) return Number(v.intValue);
  if ('doubleValue' in v) return v.doubleValue;
  return JSON.stringify(v);
}

function fromJson(body: Json): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rs of body.resourceSpans ?? []) {
    const resource = Object.fromEntries(
      (rs.resource?.attributes ?? []).map((a: Json) => [a.key, jsonValue(a.value)]),
    );
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        out.push({
          service: String(resource['service.name']),
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId ?? '',
          name: s.name,
          kind: s.kind,
          attributes: Object.fromEntries((s.attributes ?? []).map((a: Json) => [a.key, jsonValue(a.value)])),
          status: s.status?.code ?? 0,
        });
  }
  return out;
}

// --- OTLP/protobuf: the wire format, for the fields above ----------------------------------------

/** Field number -> values (length-delimited as Buffer, varints as bigint, fixed64 as Buffer). */
type Fields = Map<number, (Buffer | bigint)[]>;

function readFields(buf: Buffer): Fields {
  const fields: Fields = new Map();
  let i = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const b = buf[i++] as number;
      v |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) return v;
      shift += 7n;
    }
  };
  while (i < buf.length) {
    const key = Number(varint());
    const field = key >> 3;
    let value: Buffer | bigint;
    switch (key & 7) {
      case 0:
        value = varint();
        break;
      case 1:
        value = buf.subarray(i, i + 8);
        i += 8;
        break;
      case 2: {
        const len = Number(varint());
        value = buf.subarray(i, i + len);
        i += len;
        break;
      }
      case 5:
        value = buf.subarray(i, i + 4);
        i += 4;
        break;
      default:
        throw new Error(`otlp receiver: wire type ${key & 7} not handled`);
    }
    const list = fields.get(field) ?? [];
    list.push(value);
    fields.set(field, list);
  }
  return fields;
}

const bytes = (f: Fields, n: number): Buffer[] => (f.get(n) ?? []) as Buffer[];
const str = (f: Fields, n: number): string => bytes(f, n)[0]?.toString('utf8') ?? '';
const hex = (f: Fields, n: number): string => bytes(f, n)[0]?.toString('hex') ?? '';

function protoValue(any: Fields): AttrValue {
  if (any.has(1)) return str(any, 1);
  const [b, i, d] = [any.get(2)?.[0], any.get(3)?.[0], any.get(4)?.[0]];
  if (typeof b === 'bigint') return b !== 0n;
  if (typeof i === 'bigint') return Number(BigInt.asIntN(64, i));
  if (d instanceof Buffer) return d.readDoubleLE(0);
  return '';
}

const protoAttributes = (list: Buffer[]): Record<string, AttrValue> =>
  Object.fromEntries(
    list.map((kv) => {
      const f = readFields(kv);
      return [str(f, 1), protoValue(readFields(bytes(f, 2)[0] ?? Buffer.alloc(0)))];
    }),
  );

function fromProto(buf: Buffer): ReceivedSpan[] {
  const out: ReceivedSpan[] = [];
  for (const rsBuf of bytes(readFields(buf), 1)) {
    const rs = readFields(rsBuf);
    const resource = protoAttributes(bytes(readFields(bytes(rs, 1)[0] ?? Buffer.alloc(0)), 1));
    for (const ssBuf of bytes(rs, 2))
      for (const spanBuf of bytes(readFields(ssBuf), 2)) {
        const s = readFields(spanBuf);
        out.push({
          service: String(resource['service.name']),
          traceId: hex(s, 1),
          spanId: hex(s, 2),
          parentSpanId: hex(s, 4),
          name: str(s, 5),
          kind: Number(s.get(6)?.[0] ?? 0n),
          attributes: protoAttributes(bytes(s, 9)),
          status: Number(readFields(bytes(s, 15)[0] ?? Buffer.alloc(0)).get(3)?.[0] ?? 0n),
        });
      }
  }
  return out;
}

/** @example const otlp = await startOtlpReceiver(); spawnKq(['worker'], { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url }) */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const contentTypes: string[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const type = req.headers['content-type'] ?? '';
      contentTypes.push(type);
      const body = Buffer.concat(chunks);
      try {
        if (req.url !== '/v1/traces') throw new Error(`unexpected path ${req.url}`);
        spans.push(
          ...(type.includes('json') ? fromJson(JSON.parse(body.toString('utf8'))) : fromProto(body)),
        );
        res.writeHead(200, { 'content-type': type.includes('json') ? 'application/json' : type });
        res.end(type.includes('json') ? '{}' : undefined);
      } catch (err) {
        res.writeHead(400).end(String(err));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const receiver: OtlpReceiver = {
    url: `http://127.0.0.1:${port}`,
    spans,
    contentTypes,
    waitForSpans: (what, match, timeoutMs = 20_000) =>
      waitFor(
        `otlp receiver: ${what}\n--- spans so far: ${JSON.stringify(spans, null, 1).slice(-3000)}`,
        () => (match(spans) ? true : undefined),
        { timeoutMs },
      ).then(() => undefined),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return track(
    'otlp receiver',
    receiver,
    () => server.listening,
    (r) => r.close(),
  );
}
