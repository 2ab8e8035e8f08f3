import { spawn } from 'node:child_process';
import { Queue } from 'bullmq';
import { startRedisServer } from './redis-server.mjs';

const r = await startRedisServer();
const c = r.client();
const q = new Queue('tl', { connection: c });
for (let i = 0; i < 3; i++) {
  await q.add('stamp', { t: 0 });
  const t0 = Date.now();
  const p = spawn(process.execPath, [process.env.KQ_DIST + '/cli.js', 'worker'], {
    env: {
      PATH: process.env.PATH,
      REDIS_URL: r.url,
      QUEUE: 'tl',
      HEALTH_PORT: '0',
      EXIT: '1',
      HANDLERS: 'bench/handlers.mjs',
      KQ_DIST: process.env.KQ_DIST,
    },
    stdio: ['ignore', 'pipe', 'inherit', 'ignore'],
  });
  let out = '';
  p.stdout.on('data', (d) => (out += d));
  await new Promise((res) => p.once('exit', res));
  console.log(
    out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .map((l) => `${Date.parse(l.time) - t0} ${l.event}`)
      .join(' | '),
  );
}
c.disconnect();
await r.stop();
process.exit(0);
