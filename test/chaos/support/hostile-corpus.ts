/**
 * The hostile HTTP corpus: requests a client must never get a 2xx or a 5xx for. Each case is either a
 * fetch-able request or raw bytes for node:net (broken framing, repeated or missing headers, invalid
 * bytes). `status` pins the code where docs/api.md fixes it; otherwise any 4xx in kq's error shape passes.
 * Some payloads carry a forged log line (`{"event":"kq-forged"}` after a newline): it must never show up as a
 * log line of its own.
 */
export interface HostileCase {
  name: string;
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  /** Raw request bytes (Host and Connection: close are NOT added). */
  raw?: string | Buffer;
  status?: number;
}

export const FORGED = '\n{"level":"info","event":"kq-forged","msg":"forged"}\n';
const T = 'chaos-work';
const deep = (n: number, open: string, close: string, inner = '1') =>
  open.repeat(n) + inner + close.repeat(n);
const json = (body: string, path = '/jobs', ct = 'application/json', extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${ct}\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`;
const jsonBytes = (body: Buffer, path = '/jobs') =>
  Buffer.concat([
    Buffer.from(
      `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`,
    ),
    body,
  ]);
const get = (path: string, extra = '') =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extra}Connection: close\r\n\r\n`;

const broken: HostileCase[] = [
  ['unclosed object', '{'],
  ['truncated after key', '{"type":'],
  ['single quotes', "{'type':'chaos-work'}"],
  ['trailing comma', '{"type":"chaos-work",}'],
  ['unclosed array', '[1,2'],
  ['bare word', 'hello'],
  ['empty body with JSON content type', ''],
  ['whitespace only', '   \n\t '],
  ['two documents', '{"type":"chaos-work"}{"type":"chaos-work"}'],
  ['leading zero number', '{"type":"chaos-work","data":{"ms":01}}'],
  ['NaN literal', '{"type":"chaos-work","data":{"ms":NaN}}'],
  ['Infinity literal', '{"type":"chaos-work","delay":Infinity}'],
  ['-Infinity literal', '{"type":"chaos-work","delay":-Infinity}'],
  ['unterminated string with forged log line', `{"type":"chaos-work${FORGED}`],
  ['comment in JSON', '{"type":"chaos-work" /* hi */}'],
].map(([name, body]) => ({ name: `broken JSON: ${name}`, method: 'POST', path: '/jobs', body, status: 400 }));

const notAnObject: HostileCase[] = ['null', '"string"', '[]', '123', 'true'].map((body) => ({
  name: `body is ${body}`,
  method: 'POST',
  path: '/jobs',
  body,
}));

const nested: HostileCase[] = [
  { name: 'type nested 100k arrays deep', body: `{"type":${deep(100_000, '[', ']')}}` },
  {
    name: 'data nested 100k objects deep (passthrough type)',
    body: `{"type":"poison-throw","data":${deep(100_000, '{"a":', '}')}}`,
  },
  { name: 'data nested 100k arrays deep', body: `{"type":"${T}","data":${deep(100_000, '[', ']')}}` },
  { name: 'body nested 100k arrays deep', body: deep(100_000, '[', ']') },
  {
    name: 'batch entry nested 100k arrays deep',
    path: '/jobs/batch',
    body: `{"jobs":${deep(100_000, '[', ']')}}`,
  },
].map((c) => ({ method: 'POST', path: '/jobs', ...c, name: `deep nesting: ${c.name}` }));

const big = 'x'.repeat(2 * 1024 * 1024);
const sizes: HostileCase[] = [
  {
    name: 'body of 2 MiB',
    method: 'POST',
    path: '/jobs',
    body: `{"type":"${T}","data":{"pad":"${big}"}}`,
    status: 413,
  },
  {
    name: 'declared Content-Length of 50 MB, 10 bytes sent',
    raw: `POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 50000000\r\nConnection: close\r\n\r\n{"type":"`,
    status: 413,
  },
  {
    name: 'batch of 1001 jobs',
    method: 'POST',
    path: '/jobs/batch',
    body: { jobs: Array.from({ length: 1001 }, () => ({ type: T, data: { ms: 1 } })) },
    status: 400,
  },
  { name: 'one 64 KiB header', raw: get('/queues', `X-Big: ${'a'.repeat(64 * 1024)}\r\n`), status: 431 },
  {
    name: '300 headers of 100 bytes',
    raw: get('/queues', Array.from({ length: 300 }, (_, i) => `X-H${i}: ${'b'.repeat(100)}\r\n`).join('')),
    status: 431,
  },
  { name: 'URL of 20 KiB', raw: get(`/jobs/${'c'.repeat(20 * 1024)}`), status: 431 },
  { name: 'job id of 8 KiB', method: 'GET', path: `/jobs/${'d'.repeat(8 * 1024)}` },
].map((c) => ({ ...c, name: `size: ${c.name}` }));

const contentTypes: HostileCase[] = [
  { name: 'text/plain', ct: 'text/plain' },
  { name: 'form-urlencoded', ct: 'application/x-www-form-urlencoded', body: 'type=chaos-work' },
  {
    name: 'multipart',
    ct: 'multipart/form-data; boundary=x',
    body: '--x\r\nContent-Disposition: form-data; name="type"\r\n\r\nchaos-work\r\n--x--',
  },
  { name: 'application/xml', ct: 'application/xml', body: '<type>chaos-work</type>' },
  { name: 'application/jsonx', ct: 'application/jsonx' },
  {
    name: 'text/plain on /jobs/batch',
    ct: 'text/plain',
    path: '/jobs/batch',
    body: `{"jobs":[{"type":"${T}"}]}`,
  },
].map((c) => ({
  name: `content type: ${c.name}`,
  method: 'POST',
  path: c.path ?? '/jobs',
  headers: { 'content-type': c.ct },
  body: c.body ?? `{"type":"${T}"}`,
  status: 415,
}));
contentTypes.push(
  {
    name: 'content type: missing, JSON body',
    raw: `POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 21\r\nConnection: close\r\n\r\n{"type":"chaos-work"}`,
    status: 415,
  },
  { name: 'content type: empty value', raw: json(`{"type":"${T}"}`, '/jobs', '') },
  {
    name: 'content type: JSON in UTF-16',
    method: 'POST',
    path: '/jobs',
    headers: { 'content-type': 'application/json; charset=utf-16' },
    body: `{"type":"${T}"}`,
  },
);

const proto: HostileCase[] = [
  `{"type":"${T}","__proto__":{"polluted":true}}`,
  `{"type":"${T}","data":{"__proto__":{"ms":5}}}`,
  `{"type":"${T}","constructor":{"prototype":{"polluted":true}}}`,
  `{"type":"${T}","data":{"ms":1,"constructor":{"prototype":{"polluted":true}}}}`,
  `{"jobs":[{"type":"${T}","__proto__":{"polluted":true}}]}`,
  `{"type":"poison-throw","data":{"a":{"__proto__":{"polluted":true}}}}`,
].map((body, i) => ({
  name: `prototype keys #${i + 1}: ${body.slice(0, 60)}`,
  method: 'POST',
  path: i === 4 ? '/jobs/batch' : '/jobs',
  body,
}));

const unknownTypes: HostileCase[] = [
  '__proto__',
  'constructor',
  'toString',
  'hasOwnProperty',
  'nope',
  `${T}\u0000`,
  '../../chaos-work',
  `x${FORGED}`,
].map((type) => ({
  name: `unknown type ${JSON.stringify(type).slice(0, 40)}`,
  method: 'POST',
  path: '/jobs',
  body: { type },
  status: 422,
}));
unknownTypes.push(
  {
    name: 'unknown type in a batch with valid entries',
    method: 'POST',
    path: '/jobs/batch',
    body: { jobs: [{ type: T }, { type: 'nope' }, { type: T }] },
    status: 422,
  },
  {
    name: 'invalid payload in a batch with valid entries',
    method: 'POST',
    path: '/jobs/batch',
    body: { jobs: [{ type: T }, { type: T, data: { ms: -5 } }] },
    status: 422,
  },
);

const wrongTypes: HostileCase[] = [
  ['missing type', {}],
  ['empty type', { type: '' }],
  ['type is a number', { type: 1 }],
  ['type is null', { type: null }],
  ['type is an array', { type: [T] }],
  ['data is a string', { type: T, data: 'x' }],
  ['data is a number', { type: T, data: 5 }],
  ['data.ms is a string', { type: T, data: { ms: '10' } }],
  ['delay is a string', { type: T, delay: '10' }],
  ['delay is a boolean', { type: T, delay: true }],
  ['priority is a string', { type: T, priority: 'high' }],
  ['attempts is a string', { type: T, attempts: '3' }],
  ['queue is a number', { type: T, queue: 5 }],
  ['jobs is a string', { jobs: 'x' }, '/jobs/batch'],
  ['jobs is an object', { jobs: { type: T } }, '/jobs/batch'],
].map(([name, body, path]) => ({
  name: `wrong type: ${name}`,
  method: 'POST',
  path: (path as string) ?? '/jobs',
  body,
}));

const numbers: HostileCase[] = [
  ['delay -1', `{"type":"${T}","delay":-1}`],
  ['delay 1e20', `{"type":"${T}","delay":1e20}`],
  ['delay 1e400 (Infinity once parsed)', `{"type":"${T}","delay":1e400}`],
  ['delay 1.5', `{"type":"${T}","delay":1.5}`],
  ['priority -5', `{"type":"${T}","priority":-5}`],
  ['priority 2097153', `{"type":"${T}","priority":2097153}`],
  ['priority 0.5', `{"type":"${T}","priority":0.5}`],
  ['attempts 0', `{"type":"${T}","attempts":0}`],
  ['attempts -1', `{"type":"${T}","attempts":-1}`],
  ['attempts 1e9', `{"type":"${T}","attempts":1000000000}`],
  ['data.ms -1', `{"type":"${T}","data":{"ms":-1}}`],
  ['data.ms 1e400', `{"type":"${T}","data":{"ms":1e400}}`],
  ['data.ms -0.5', `{"type":"${T}","data":{"ms":-0.5}}`],
].map(([name, body]) => ({ name: `number: ${name}`, method: 'POST', path: '/jobs', body }));

const utf8: HostileCase[] = [
  {
    name: 'invalid UTF-8 in type',
    raw: jsonBytes(Buffer.concat([Buffer.from('{"type":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')])),
    status: 422,
  },
  {
    name: 'invalid UTF-8 in queue',
    raw: jsonBytes(
      Buffer.concat([Buffer.from(`{"type":"${T}","queue":"`), Buffer.from([0xc3, 0x28]), Buffer.from('"}')]),
    ),
  },
  { name: 'invalid percent-encoding in id', method: 'GET', path: '/jobs/%ff%fe' },
  {
    name: 'raw 0xff byte in path',
    raw: Buffer.concat([
      Buffer.from('GET /jobs/'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from(' HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n'),
    ]),
  },
].map((c) => ({ ...c, name: `UTF-8: ${c.name}` }));

const ids: HostileCase[] = [
  ['GET', '/jobs/..%2F..%2Fetc%2Fpasswd'],
  ['GET', '/jobs/*'],
  ['GET', '/jobs/%2A'],
  ['GET', '/jobs/%00'],
  ['GET', '/jobs/1%0d%0aSet-Cookie:%20kq=forged'],
  ['GET', `/jobs/x${encodeURIComponent(FORGED)}`],
  ['GET', "/jobs/'%20OR%201=1--"],
  ['GET', '/jobs/%7B%7B7*7%7D%7D'],
  ['GET', '/jobs/$%7Bjndi:ldap:%2F%2Fx%7D'],
  ['DELETE', '/jobs/..%2Fwait'],
  ['DELETE', '/jobs/*'],
  ['GET', '/queues/..%2F..%2Fx'],
  ['GET', '/queues/*'],
  ['POST', '/queues/*/pause'],
  ['POST', '/queues/..%2Fbull/pause'],
  ['POST', '/queues/a:b/resume'],
  ['GET', `/queues/${'q'.repeat(5000)}`],
].map(([method, path]) => ({ name: `id injection: ${method} ${path?.slice(0, 50)}`, method, path }));
ids.push(
  { name: 'id injection: raw ../ traversal', raw: get('/jobs/../../etc/passwd') },
  ...['../x', '*', 'a:b', 'a b', `q${FORGED}`].map((queue) => ({
    name: `queue name ${JSON.stringify(queue).slice(0, 30)} in POST /jobs`,
    method: 'POST',
    path: '/jobs',
    body: { type: T, queue },
    status: 400,
  })),
);

const framing: HostileCase[] = [
  {
    name: 'two different Content-Length headers',
    raw: `POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 21\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{"type":"chaos-work"}`,
    status: 400,
  },
  {
    name: 'Content-Length with Transfer-Encoding',
    raw: `POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n15\r\n{"type":"chaos-work"}\r\n0\r\n\r\n`,
    status: 400,
  },
  { name: 'HTTP/1.1 without Host', raw: 'GET /queues HTTP/1.1\r\nConnection: close\r\n\r\n', status: 400 },
  { name: 'unknown method', raw: 'FOO /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' },
  { name: 'HTTP version 9.9', raw: 'GET /queues HTTP/9.9\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' },
  { name: 'space in a header name', raw: get('/queues', 'Bad Header: x\r\n'), status: 400 },
  { name: 'obs-fold header continuation', raw: get('/queues', 'X-A: a\r\n  folded\r\n') },
  {
    name: 'bad chunk size',
    raw: `POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: 'chunked malformed JSON',
    raw: `POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n{"typ\r\n0\r\n\r\n`,
    status: 400,
  },
  {
    name: 'repeated Content-Type',
    raw: `POST /jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\nContent-Type: application/json\r\nContent-Length: 21\r\nConnection: close\r\n\r\n{"type":"chaos-work"}`,
  },
  { name: 'PUT /jobs', method: 'PUT', path: '/jobs', body: { type: T } },
  { name: 'unknown route', method: 'GET', path: '/etc/passwd', status: 404 },
].map((c) => ({ ...c, name: `framing: ${c.name}` }));

export const HOSTILE_CASES: HostileCase[] = [
  ...broken,
  ...notAnObject,
  ...nested,
  ...sizes,
  ...contentTypes,
  ...proto,
  ...unknownTypes,
  ...wrongTypes,
  ...numbers,
  ...utf8,
  ...ids,
  ...framing,
];
