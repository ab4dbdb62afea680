import { test, expect, type Page } from '@playwright/test';
import * as path from 'node:path';
import { MarqueeProcess } from './support';

const artifacts = path.join(__dirname, '..', 'artifacts');

/** Text of a locator now, then wait until it reads differently. */
async function expectToChange(page: Page, selector: string) {
  const locator = page.locator(selector).first();
  await expect(locator).toHaveText(/\d/);
  const before = await locator.innerText();
  await expect.poll(async () => locator.innerText(), { timeout: 10_000 }).not.toBe(before);
}

test('the tape and the quote table update live', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-state', 'live');

  // No API key: the demo universe, labelled as synthetic, streams by itself.
  await expect(page.getByTestId('data-source')).toContainText('Synthetic');
  await expect(page.getByTestId('simulation')).toHaveAttribute('data-state', 'running');
  await expect(page.getByTestId('simulation')).toContainText('streaming');

  const rows = page.getByTestId('quote-row');
  await expect.poll(async () => rows.count()).toBeGreaterThanOrEqual(5);
  await expect(page.getByTestId('tape-item').first()).toBeVisible();

  // Prices move: the same cell reads differently a moment later.
  await expectToChange(page, '[data-testid="quote-row"][data-symbol="AAPL"] [data-testid="last"]');
  await expectToChange(page, '[data-testid="tape-item"][data-symbol="MSFT"] [data-testid="tape-price"]');

  // Each row shows a price and a signed change and percentage.
  const aapl = page.locator('[data-testid="quote-row"][data-symbol="AAPL"]');
  await expect(aapl.getByTestId('last')).toHaveText(/^\d{1,3}(,\d{3})*\.\d{2}$/);
  await expect(aapl.getByTestId('change')).toHaveText(/^([+-]\d+\.\d{2}|0\.00)$/);
  await expect(aapl.getByTestId('change-pct')).toHaveText(/^([+-]\d+\.\d{2}|0\.00)%$/);

  await expect(aapl.getByTestId('source')).toHaveText('Synthetic (demo)');

  // Up is green and down is red, decided by the sign of the change.
  const change = await aapl.getByTestId('change').innerText();
  await expect(aapl.getByTestId('change')).toHaveClass(change.startsWith('-') ? /down/ : /up/);

  // The page counts what it receives; the count grows.
  const received = page.getByTestId('ticks-received');
  const first = Number(await received.innerText());
  await expect.poll(async () => Number(await received.innerText())).toBeGreaterThan(first + 20);

  await page.screenshot({ path: path.join(artifacts, 'dashboard-1440x900.png') });
});

test('the page goes to reconnecting when the server stops and back to live when it returns', async ({ page }) => {
  const server = new MarqueeProcess();
  await server.start();
  try {
    await page.goto(server.url);
    const status = page.getByTestId('connection-status');
    await expect(status).toHaveAttribute('data-state', 'live');

    await server.stop();
    await expect(status).toHaveAttribute('data-state', /reconnecting|offline/);

    await server.start();
    await expect(status).toHaveAttribute('data-state', 'live', { timeout: 20_000 });
    // And data flows again after the reconnect.
    await expectToChange(page, '[data-testid="quote-row"][data-symbol="AAPL"] [data-testid="last"]');
    await page.screenshot({ path: path.join(artifacts, 'dashboard-after-restart.png') });
  } finally {
    await server.stop();
  }
});
