// Runs a server script (argv[2], with the rest as its argv) inside this process and answers each
// 'cpu' message on the IPC channel with process.cpuUsage(), so the bench reads every server's CPU time
// the same way: kq's API (dist/cli.js api) and the Fastify baseline alike.
// Under callgrind (bench/ingest-instructions.mjs) 'zero' and 'dump' call a native function that nothing
// else calls, which the run names in `--zero-before=uv_os_getpriority --dump-before=uv_get_available_memory`.
// Each call must reach it: `os.version()` would not (node:os reads uname once, when it loads).
import { getPriority } from 'node:os';
import { pathToFileURL } from 'node:url';

process.on('message', (m) => {
  if (m === 'cpu') process.send({ cpu: process.cpuUsage() });
  else if (m === 'zero') process.send({ zeroed: getPriority() });
  else if (m === 'dump') process.send({ dumped: process.availableMemory() });
});
process.channel?.unref();
const [script, ...rest] = process.argv.slice(2);
process.argv = [process.argv[0], script, ...rest];
await import(pathToFileURL(script).href);
