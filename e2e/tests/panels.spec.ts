// Every panel of the dashboard, with live data: the tape, the watchlist
// (selection, filter, sorting), the chart (symbol, interval, overlays, the
// forming candle), the pipeline panel, latency figures, alerts, events; and
// the screenshots at two screen sizes and in both themes.
//
// The first test owns a fresh server (it checks what a new install shows in
// its first seconds); the others use the config's shared server, which they
// do not change.
import { test, expect, type Page } from '@playwright/test';
import * as path from 'node:path';
import { MarqueeProcess } from './support';
import {
  BROKEN_TEXT,
  MILLIS,
  PRICE,
  RATE,
  STAGE_LATENCY,
  expectChartAndPipeline,
  expectLive,
  numberIn,
  numberOf,
  numericAttribute,
  ordering,
  stageCard,
  visibleCells,
  visibleSymbols,
  watchlistRow,
} from './ui';

const artifacts = path.join(__dirname, '..', 'artifacts');
const STAGES = ['ingest', 'driver', 'receiver', 'store', 'gateway'];
const DEMO_SYMBOLS = 22;

test('every panel shows live data within 5 s of page load on a fresh server', async ({ page }) => {
  const server = new MarqueeProcess();
  await server.start();
  try {
    // The demo universe loads in well under a second; the 5 s are the page's.
    await server.waitForSimulation('running');
    await page.goto(server.url);
    const loaded = Date.now();
    const within5s = () => ({ timeout: Math.max(250, loaded + 5_000 - Date.now()) });

    await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'live', within5s());
    await expect(page.getByTestId('simulation-state')).toContainText(`streaming ${DEMO_SYMBOLS} symbols`, within5s());
    await expect(page.getByTestId('source-badge')).toContainText('Synthetic', within5s());

    // Ticker tape: items, each with a price.
    await expect
      .poll(async () => {
        const prices = await page.getByTestId('tape-price').allInnerTexts();
        return prices.length > 0 && prices.every((p) => PRICE.test(p.trim()));
      }, { message: 'tape items with prices', ...within5s() })
      .toBe(true);

    // Watchlist: one row per demo symbol, each with a price.
    await expect(page.getByTestId('watchlist-row')).toHaveCount(DEMO_SYMBOLS, within5s());
    await expect
      .poll(async () => (await visibleCells(page, 'row-last')).filter((p) => PRICE.test(p.trim())).length, {
        message: 'watchlist rows with a price',
        ...within5s(),
      })
      .toBe(DEMO_SYMBOLS);

    // Chart: candles for the selected symbol.
    const canvas = page.getByTestId('chart-canvas');
    await expect.poll(() => numericAttribute(canvas, 'data-candles'), within5s()).toBeGreaterThanOrEqual(1);
    await expect(canvas).toHaveAttribute('data-symbol', /^[A-Z][A-Z.]*$/);
    await expect(canvas).toHaveAttribute('data-interval', /^(1m|5m|15m|1d)$/);
    expect(await numericAttribute(canvas, 'data-last-close')).toBeGreaterThan(0);

    // Pipeline panel: one card per stage, each with figures.
    for (const name of STAGES) {
      const card = stageCard(page, name);
      await expect(card, `stage card ${name}`).toBeVisible(within5s());
      await expect(card).toHaveAttribute('data-status', 'up', within5s());
      await expect(card.getByTestId('stage-rate')).toHaveText(RATE, within5s());
      await expect(card.getByTestId('stage-p50')).toHaveText(STAGE_LATENCY, within5s());
      await expect(card.getByTestId('stage-p99')).toHaveText(STAGE_LATENCY, within5s());
      await expect(card.getByTestId('stage-errors')).toHaveText(/\d/, within5s());
    }
    await expect(stageCard(page, 'receiver').getByTestId('stage-buffer')).toHaveText(/\d/, within5s());
    await expect
      .poll(() => numberOf(stageCard(page, 'gateway').getByTestId('stage-rate')), {
        message: 'gateway ticks/s',
        ...within5s(),
      })
      .toBeGreaterThan(0);
    await expect.poll(() => numberOf(page.getByTestId('clients-count')), within5s()).toBeGreaterThanOrEqual(1);
    await expect
      .poll(() => numericAttribute(page.getByTestId('throughput-canvas'), 'data-points'), within5s())
      .toBeGreaterThanOrEqual(1);

    // Latency: the server's end-to-end and the page's own tick-to-render.
    for (const id of ['e2e-p50', 'e2e-p99', 'browser-p50', 'browser-p99']) {
      await expect(page.getByTestId(id), id).toHaveText(MILLIS, within5s());
    }

    // Events (the demo data load) and alerts (some, or the empty state).
    await expect.poll(() => page.getByTestId('event-item').count(), within5s()).toBeGreaterThanOrEqual(1);
    await expect(page.getByTestId('alerts-feed')).toBeVisible(within5s());
    await expect
      .poll(
        async () =>
          (await page.getByTestId('alert-item').count()) > 0 || (await page.getByTestId('alerts-empty').isVisible()),
        { message: 'alert items or the empty state', ...within5s() },
      )
      .toBe(true);

    // No figure lost on the way: two looks, a second apart.
    for (let look = 0; look < 2; look++) {
      expect(await page.locator('body').innerText()).not.toMatch(BROKEN_TEXT);
      expect(await canvas.getAttribute('data-last-close')).not.toMatch(BROKEN_TEXT);
      await page.waitForTimeout(1_000);
    }
  } finally {
    await server.stop();
  }
});

/** Makes `interval` the chart's interval (clicking another first if it already is). */
async function chooseInterval(page: Page, interval: '1m' | '5m' | '15m' | '1d') {
  const canvas = page.getByTestId('chart-canvas');
  if ((await canvas.getAttribute('data-interval')) === interval) {
    const other = interval === '1m' ? '5m' : '1m';
    await page.getByTestId(`interval-${other}`).click();
    await expect(canvas).toHaveAttribute('data-interval', other);
  }
  const redraws = await numericAttribute(canvas, 'data-redraws');
  await page.getByTestId(`interval-${interval}`).click();
  await expect(canvas).toHaveAttribute('data-interval', interval);
  await expect(page.getByTestId(`interval-${interval}`)).toHaveAttribute('aria-pressed', 'true');
  for (const other of ['1m', '5m', '15m', '1d'].filter((i) => i !== interval)) {
    await expect(page.getByTestId(`interval-${other}`)).not.toHaveAttribute('aria-pressed', 'true');
  }
  await expect.poll(() => numericAttribute(canvas, 'data-redraws'), { message: 'redrawn' }).toBeGreaterThan(redraws);
  await expect.poll(() => numericAttribute(canvas, 'data-candles'), { message: `${interval} candles` })
    .toBeGreaterThanOrEqual(1);
}

test('the chart follows the selected symbol and interval, and its forming candle moves', async ({ page }) => {
  await page.goto('/');
  await expectLive(page);
  const canvas = page.getByTestId('chart-canvas');
  await expect.poll(() => numericAttribute(canvas, 'data-candles')).toBeGreaterThanOrEqual(1);
  // Never one lonely candle: a fresh 1m chart opens with the stored daily
  // history before the live bars.
  await expect(canvas).toHaveAttribute('data-interval', '1m');
  await expect.poll(() => numericAttribute(canvas, 'data-context')).toBeGreaterThanOrEqual(20);
  expect(await numericAttribute(canvas, 'data-candles')).toBeGreaterThan(await numericAttribute(canvas, 'data-context'));

  // Selecting a row switches the chart (AAPL first if MSFT is already shown).
  if ((await canvas.getAttribute('data-symbol')) === 'MSFT') {
    await watchlistRow(page, 'AAPL').click();
    await expect(canvas).toHaveAttribute('data-symbol', 'AAPL');
  }
  await watchlistRow(page, 'MSFT').click();
  await expect(page.getByTestId('chart-symbol')).toContainText('MSFT');
  await expect(canvas).toHaveAttribute('data-symbol', 'MSFT');
  await expect(watchlistRow(page, 'MSFT')).toHaveAttribute('data-selected', 'true');
  await expect(page.locator('[data-testid="watchlist-row"][data-selected="true"]')).toHaveCount(1);
  await expect.poll(() => numericAttribute(canvas, 'data-candles')).toBeGreaterThanOrEqual(1);

  // Intervals: each redraws the chart with candles of its own.
  await chooseInterval(page, '5m');
  await chooseInterval(page, '15m');
  // 1d is the stored daily history: the demo universe holds a year of it.
  await chooseInterval(page, '1d');
  await expect.poll(() => numericAttribute(canvas, 'data-candles')).toBeGreaterThanOrEqual(20);
  await expect(canvas).toHaveAttribute('data-symbol', 'MSFT');

  // The forming 1m candle follows the live price.
  await chooseInterval(page, '1m');
  const close = await canvas.getAttribute('data-last-close');
  expect(Number(close)).toBeGreaterThan(0);
  await expect
    .poll(() => canvas.getAttribute('data-last-close'), { message: 'forming candle moves', timeout: 6_000 })
    .not.toBe(close);

  // Overlays toggle and redraw.
  for (const overlay of ['overlay-sma', 'overlay-ema', 'overlay-bollinger']) {
    const box = page.getByTestId(overlay);
    const was = await box.isChecked();
    const redraws = await numericAttribute(canvas, 'data-redraws');
    await box.setChecked(!was);
    await expect(box).toBeChecked({ checked: !was });
    await expect.poll(() => numericAttribute(canvas, 'data-redraws')).toBeGreaterThan(redraws);
    await box.setChecked(was);
    await expect(box).toBeChecked({ checked: was });
  }
  await expect(canvas).toHaveAttribute('data-symbol', 'MSFT');
});

interface SymbolSummary {
  symbol: string;
  name: string | null;
}

test('the watchlist filters by text and sorts by any column, both ways', async ({ page, request }) => {
  const res = await request.get('/api/v1/symbols');
  expect(res.ok()).toBe(true);
  const all = (await res.json()) as SymbolSummary[];
  await page.goto('/');
  await expectLive(page);
  const rows = page.getByTestId('watchlist-row');
  await expect(rows).toHaveCount(all.length);

  // Filter "MS": only rows whose symbol (or company name) contains it.
  const allowed = new Set(
    all.filter((s) => `${s.symbol} ${s.name ?? ''}`.toLowerCase().includes('ms')).map((s) => s.symbol),
  );
  await page.getByTestId('watchlist-filter').fill('MS');
  await expect
    .poll(async () => {
      const shown = await visibleSymbols(page);
      return shown.includes('MSFT') && shown.every((s) => allowed.has(s));
    }, { message: `only rows matching "MS" (${[...allowed].join(', ')})` })
    .toBe(true);
  const shown = await visibleSymbols(page);
  expect(shown).not.toContain('AAPL');
  expect(shown.length).toBeLessThan(all.length);
  await page.getByTestId('watchlist-filter').fill('');
  await expect.poll(async () => (await visibleSymbols(page)).length).toBe(all.length);

  // Sorting by symbol: one way, then the other.
  const bySymbol = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  await page.getByTestId('sort-symbol').click();
  let first: string = 'none';
  await expect
    .poll(async () => (first = ordering(await visibleSymbols(page), bySymbol)), { message: 'sorted by symbol' })
    .toMatch(/^(asc|desc)$/);
  await page.getByTestId('sort-symbol').click();
  await expect
    .poll(async () => ordering(await visibleSymbols(page), bySymbol), { message: 'symbol order reversed' })
    .toBe(first === 'asc' ? 'desc' : 'asc');

  // Sorting by change %: the live values stay in order, then in the other order.
  const byNumber = (a: number, b: number) => a - b;
  const changes = async () => (await visibleCells(page, 'row-change-pct')).map(numberIn);
  await page.getByTestId('sort-change-pct').click();
  await expect
    .poll(async () => (first = ordering(await changes(), byNumber)), { message: 'sorted by change %' })
    .toMatch(/^(asc|desc)$/);
  const values = await changes();
  expect(values.every(Number.isFinite), `change % figures: ${values}`).toBe(true);
  await page.getByTestId('sort-change-pct').click();
  await expect
    .poll(async () => ordering(await changes(), byNumber), { message: 'change % order reversed' })
    .toBe(first === 'asc' ? 'desc' : 'asc');
  await expect(rows).toHaveCount(all.length);
});

test('screenshots: dark at 1440x900 and 1920x1080, light at 1440x900', async ({ page }) => {
  const html = page.locator('html');
  const canvas = page.getByTestId('chart-canvas');
  const redrawn = async (shot: () => Promise<unknown>) => {
    const before = await numericAttribute(canvas, 'data-redraws');
    await shot();
    await expect.poll(() => numericAttribute(canvas, 'data-redraws')).toBeGreaterThan(before);
  };

  await page.setViewportSize({ width: 1440, height: 900 });
  await page.goto('/');
  await expectLive(page);
  await expect(html).toHaveAttribute('data-theme', 'dark');
  await expectChartAndPipeline(page);
  await page.screenshot({ path: path.join(artifacts, 'dashboard-1440x900.png') });

  await redrawn(() => page.setViewportSize({ width: 1920, height: 1080 }));
  await expectChartAndPipeline(page);
  await page.screenshot({ path: path.join(artifacts, 'dashboard-1920x1080.png') });

  await redrawn(() => page.setViewportSize({ width: 1440, height: 900 }));
  await redrawn(() => page.getByTestId('theme-toggle').click());
  await expect(html).toHaveAttribute('data-theme', 'light');
  await expectChartAndPipeline(page);
  await page.screenshot({ path: path.join(artifacts, 'dashboard-light-1440x900.png') });

  // And back.
  await page.getByTestId('theme-toggle').click();
  await expect(html).toHaveAttribute('data-theme', 'dark');
});
