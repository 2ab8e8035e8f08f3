/**
 * Loaded with `node --import` into each lab pod's `kq worker` process: it loads what the worker will
 * load (the `kq worker` chunk of the bundle and the HANDLERS module), then holds the process until the
 * lab writes a line to its stdin. So the real Node start (hundreds of ms of wall time, which at
 * `--speed 60` would count as tens of workload seconds) happens while the pod is still Pending, and the
 * pod's start latency is the one the lab plays (`--pod-start-seconds` + `--node-start-seconds`), unless
 * loading takes longer than that, in which case the pod is late by the difference, as measured.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dist = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const go = new Promise<void>((done) => process.stdin.once('data', () => done()));
const chunk = /import\("\.\/(chunks\/worker-[A-Za-z0-9_-]+\.js)"\)/.exec(
  readFileSync(resolve(dist, 'cli.js'), 'utf8'),
)?.[1];
const handlers = process.env.HANDLERS;
await Promise.all([
  chunk ? import(pathToFileURL(resolve(dist, chunk)).href) : undefined,
  handlers ? import(pathToFileURL(handlers).href) : undefined,
]);
await go;
process.stdin.destroy();
