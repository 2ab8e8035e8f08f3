/**
 * The dashboard in a real browser: Debian's headless Chromium (never a downloaded one) driven by
 * playwright-core opens /ui of a real `kq api` process with a token, sees the queue and a job enqueued a
 * moment before, and saves a screenshot under .test-artifacts/; without a token the page is refused.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { chromium } from 'playwright-core';
import { describe, expect, it } from 'vitest';
import { useTestQueue } from '../helpers/context.js';
import { spawnKq } from '../helpers/kq-process.js';
import { track } from '../helpers/leak-guard.js';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN = 'browser-token-0123456789abcdef';
const ARTIFACTS = resolve(import.meta.dirname, '../../.test-artifacts');
const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) {
  console.warn(`test/browser: SKIPPED, ${CHROMIUM} is missing (install it: apt-get install -y chromium)`);
}

async function launch() {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  return track(
    'chromium',
    browser,
    (b) => b.isConnected(),
    (b) => b.close(),
  );
}

describe.skipIf(!hasChromium)('dashboard (/ui) in headless Chromium', () => {
  it('shows the queue and a just-enqueued job with a token, refuses without one', async () => {
    const t = useTestQueue();
    const api = spawnKq(['api'], { REDIS_URL: t.redisUrl, PORT: '0', HOST: '127.0.0.1', API_TOKENS: TOKEN });
    const browser = await launch();
    try {
      const line = await api.waitForLog('api.listening', (l) => l.event === 'api.listening', 20_000);
      const base = `http://127.0.0.1:${line.port}`;
      const res = await fetch(`${base}/jobs`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 'sleep', queue: t.queue, data: { seconds: 7 } }),
      });
      expect(res.status).toBe(202);
      const { id } = (await res.json()) as { id: string };

      // Without a token: refused, nothing of the dashboard is served.
      const anon = await browser.newPage();
      const refused = await anon.goto(`${base}/ui`);
      expect(refused?.status()).toBe(401);
      expect(await anon.content()).toContain('UNAUTHORIZED');
      await anon.close();

      const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const opened = await page.goto(`${base}/ui?token=${TOKEN}`);
      expect(opened?.status()).toBe(200);
      expect(new URL(page.url()).search).toBe(''); // the token left the address bar
      await page.getByText(t.queue).first().waitFor({ timeout: 20_000 });
      await page.goto(`${base}/ui/queue/${encodeURIComponent(t.queue)}?status=waiting`);
      await page.getByText(id).first().waitFor({ timeout: 20_000 });
      mkdirSync(ARTIFACTS, { recursive: true });
      const file = resolve(ARTIFACTS, 'dashboard.png');
      await page.screenshot({ path: file, fullPage: true });
      expect(existsSync(file)).toBe(true);

      // The API reference renders too (its scripts pass the CSP), with the cookie set by the /ui login.
      const docs = await browser.newPage({ viewport: { width: 1280, height: 800 } });
      const blocked: string[] = [];
      docs.on('console', (m) => {
        if (/Content Security Policy/i.test(m.text())) blocked.push(m.text());
      });
      const docsRes = await docs.goto(`${base}/docs?token=${TOKEN}`);
      expect(docsRes?.status()).toBe(200);
      await docs.getByText('/jobs/batch').first().waitFor({ timeout: 20_000 });
      await docs.screenshot({ path: resolve(ARTIFACTS, 'docs.png') });
      expect(blocked).toEqual([]);
    } finally {
      await browser.close();
      api.kill('SIGTERM');
      await api.waitForExit();
    }
  });
});
