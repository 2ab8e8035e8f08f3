// Runs a server script (argv[2], with the rest as its argv) inside this process and answers each
// 'cpu' message on the IPC channel with process.cpuUsage(), so the bench reads every server's CPU time
// the same way: kq's API (dist/cli.js api) and the Fastify baseline alike.
import { pathToFileURL } from 'node:url';

process.on('message', (m) => {
  if (m === 'cpu') process.send({ cpu: process.cpuUsage() });
});
process.channel?.unref();
const [script, ...rest] = process.argv.slice(2);
process.argv = [process.argv[0], script, ...rest];
await import(pathToFileURL(script).href);
