import { spawnSync } from 'node:child_process';
import { Queue } from 'bullmq';
import { startRedisServer } from './redis-server.mjs';

const r = await startRedisServer();
const c = r.client();
const q = new Queue('cold', { connection: c });
for (const kind of ['kq', 'bullmq']) {
  await q.add('noop', {});
  const args =
    kind === 'kq' ? [process.env.KQ_DIST + '/cli.js', 'worker'] : ['/work/main/bench/baseline-worker.mjs'];
  const t = Date.now();
  const env = {
    PATH: process.env.PATH,
    REDIS_URL: r.url,
    QUEUE: 'cold',
    HEALTH_PORT: '0',
    EXIT: '1',
    HANDLERS: '/work/main/bench/handlers.mjs',
    KQ_DIST: process.env.KQ_DIST,
    EXIT_ON_DRAINED: '1',
  };
  spawnSync(process.execPath, ['--cpu-prof', `--cpu-prof-dir=/tmp/prof-${kind}`, ...args], {
    env,
    stdio: ['ignore', 'ignore', 'inherit', 'ignore'],
  });
  console.log(kind, Date.now() - t, 'ms');
}
await q.close();
c.disconnect();
await r.stop();
process.exit(0);
