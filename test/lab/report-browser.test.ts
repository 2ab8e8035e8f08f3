/**
 * report.html in a real browser: Debian's headless Chromium (playwright-core) opens the page a real
 * `kq lab run` wrote, offline, and finds the three uPlot charts drawn (canvases with non-blank pixels,
 * one legend entry per approach) and the comparison table; a screenshot goes to .test-artifacts/.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { spawnKq } from '../helpers/kq-process.js';
import { track } from '../helpers/leak-guard.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '../../.test-artifacts');
const hasChromium = existsSync(CHROMIUM);

/** The part of a canvas element the check reads (the test is typechecked without the DOM library). */
interface CanvasLike {
  width: number;
  height: number;
  getContext(
    kind: '2d',
  ): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
}

describe.skipIf(!hasChromium)('kq lab report.html in headless Chromium', () => {
  it('draws the charts and the table with no network', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kq-lab-html-'));
    onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
    const lab = spawnKq(
      [
        'lab',
        'compare',
        'deployment',
        'keda-scaledobject',
        '--engine',
        'real',
        '--speed',
        '200',
        '--report',
        dir,
      ],
      {},
    );
    const { code } = await lab.waitForExit(90_000);
    expect(code, lab.output()).toBe(0);

    const browser = track(
      'chromium',
      await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--no-first-run',
        ],
      }),
      (b) => b.isConnected(),
      (b) => b.close(),
    );
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 1100 } });
      const requests: string[] = [];
      page.on('request', (r) => {
        if (!r.url().startsWith('file:')) requests.push(r.url());
      });
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(pathToFileURL(join(dir, 'report.html')).href);
      await page.locator('.chart canvas').nth(2).waitFor({ timeout: 20_000 });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]); // self-contained: nothing fetched

      const charts = await page.$$eval('.chart canvas', (els) =>
        (els as unknown as CanvasLike[]).map((c) => {
          const ctx = c.getContext('2d');
          const img = ctx?.getImageData(0, 0, c.width, c.height).data ?? [];
          let inked = 0;
          for (let i = 3; i < img.length; i += 4) if ((img[i] ?? 0) > 0) inked++;
          return { width: c.width, height: c.height, inked };
        }),
      );
      expect(charts).toHaveLength(3);
      for (const c of charts) {
        expect(c.width).toBeGreaterThan(100);
        expect(c.inked).toBeGreaterThan(500); // lines drawn, not an empty canvas
      }
      // One legend entry per approach in each chart (plus the x series).
      expect(await page.locator('.chart .u-legend .u-series').count()).toBe(3 * 3);
      const rows = await page.locator('#comparison tbody tr th').allTextContents();
      expect(rows).toEqual(['deployment', 'keda-scaledobject']);

      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: resolve(ARTIFACTS, 'lab-report.png'), fullPage: true });
    } finally {
      await browser.close();
    }
  }, 120_000);
});
