// The tape and the watchlist stream live on the shared server (the config's
// webServer: default configuration, no API key, the demo universe).
//
// The reconnect test that used to live here is now part of
// resilience.spec.ts ("a killed and restarted server ..."), which checks
// more (no gaps, resume, screenshot dashboard-after-restart.png).
import { test, expect, type Page } from '@playwright/test';
import { PRICE, counter, expectLive, watchlistRow } from './ui';

/** Text of a locator now, then wait until it reads differently. */
async function expectToChange(page: Page, selector: string) {
  const locator = page.locator(selector).first();
  await expect(locator).toHaveText(/\d/);
  const before = await locator.innerText();
  await expect.poll(async () => locator.innerText(), { timeout: 10_000 }).not.toBe(before);
}

test('the tape and the watchlist update live', async ({ page }) => {
  await page.goto('/');
  await expectLive(page);

  // No API key: the demo universe, labelled as synthetic, streams by itself.
  await expect(page.getByTestId('source-badge')).toContainText('Synthetic');
  await expect(page.getByTestId('simulation-state')).toContainText('streaming');

  const rows = page.getByTestId('watchlist-row');
  await expect.poll(async () => rows.count()).toBeGreaterThanOrEqual(5);
  await expect(page.getByTestId('tape-item').first()).toBeVisible();

  // Prices move: the same cell reads differently a moment later.
  await expectToChange(page, '[data-testid="watchlist-row"][data-symbol="AAPL"] [data-testid="row-last"]');
  await expectToChange(page, '[data-testid="tape-item"][data-symbol="MSFT"] [data-testid="tape-price"]');

  // Each row shows a price and a signed change and percentage.
  const aapl = watchlistRow(page, 'AAPL');
  await expect(aapl.getByTestId('row-last')).toHaveText(PRICE);
  await expect(aapl.getByTestId('row-change')).toHaveText(/^([+-]\d+\.\d{2}|0\.00)$/);
  await expect(aapl.getByTestId('row-change-pct')).toHaveText(/^([+-]\d+\.\d{2}|0\.00)%$/);
  await expect(aapl.getByTestId('row-source')).toHaveAttribute('title', 'Synthetic (demo)');
  await expect(aapl.getByTestId('sparkline')).toBeAttached();

  // Up is green and down is red, decided by the sign of the change.
  // (Text and class are read together: the sign may flip between two reads.)
  await expect
    .poll(() =>
      aapl.getByTestId('row-change').evaluate((cell) => {
        const text = (cell.textContent ?? '').trim();
        if (text === '0.00') return true; // rounds to zero: either colour is honest
        return text.startsWith('-') ? /\bdown\b/.test(cell.className) : /\bup\b/.test(cell.className);
      }),
    )
    .toBe(true);

  // The page counts what it receives; the count grows.
  const first = await counter(page, 'ticks-received');
  await expect.poll(() => counter(page, 'ticks-received')).toBeGreaterThan(first + 20);
});
