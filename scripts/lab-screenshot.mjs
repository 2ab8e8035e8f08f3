/**
 * Screenshot of a `kq lab` report.html for docs/lab.md, with Debian's Chromium (as the browser tests).
 * Usage: node scripts/lab-screenshot.mjs <report dir> <out.png>
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const [dir, out] = process.argv.slice(2);
if (!dir || !out) {
  console.error('usage: node scripts/lab-screenshot.mjs <report dir> <out.png>');
  process.exit(2);
}
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  await page.goto(pathToFileURL(resolve(dir, 'report.html')).href);
  await page.locator('.chart canvas').nth(2).waitFor();
  const clip = await page.evaluate(() => {
    const r = document.querySelector('#comparison')?.getBoundingClientRect();
    return { x: 0, y: 0, width: 1200, height: Math.ceil((r?.bottom ?? 900) + window.scrollY + 10) };
  });
  await page.screenshot({ path: out, clip, fullPage: true });
} finally {
  await browser.close();
}
