// A UI page in Chromium as the e2e tests see it: console errors recorded, the live event stream
// connected before the test starts, and axe-core's serious and critical findings.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import type { RunningNode } from './tessera-process.js';

const AXE_SOURCE = await readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** Opens `#/<pageId>` of `node`'s UI; `errors` collects console errors and uncaught exceptions. */
export async function openPage(browser: Browser, node: RunningNode, pageId: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') errors.push(message.text());
  });
  await page.goto(`${node.uiUrl}#/${pageId}`);
  await page.locator(`main[data-page="${pageId}"]`).waitFor();
  await page.locator('[data-testid="events-status"][data-status="live"]').waitFor();
  return { page, errors };
}

/** axe-core's serious and critical violations on the page, one line each. */
export async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(AXE_SOURCE);
  // A string, not a function: the e2e files are typechecked without the DOM's types.
  const results = (await page.evaluate('axe.run(document)')) as { violations: Array<{ id: string; impact: string | null; nodes: Array<{ target: unknown }> }> };
  return results.violations
    .filter((violation) => violation.impact === 'serious' || violation.impact === 'critical')
    .map((violation) => `${violation.id} (${violation.impact}): ${violation.nodes.map((node) => JSON.stringify(node.target)).join(', ')}`);
}
