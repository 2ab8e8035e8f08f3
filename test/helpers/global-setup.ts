/** Vitest global setup: one private redis-server for the whole run, unless REDIS_URL names one. */
import type { TestProject } from 'vitest/node';
import { type RedisServer, startRedisServer } from './redis-server.js';

let server: RedisServer | undefined;

export async function setup(project: TestProject): Promise<void> {
  let url = process.env.REDIS_URL;
  if (!url) {
    server = await startRedisServer();
    url = server.url;
  }
  project.provide('redisUrl', url);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}
