// Page helpers shared by the specs: reading the dashboard's figures by test id.
import { expect, type Locator, type Page } from '@playwright/test';

/** A price as the dashboard shows it: `1,234.50`. */
export const PRICE = /^\d{1,3}(,\d{3})*\.\d{2}$/;
/** A latency: `1.2 ms` (a few spellings of the unit are tolerated). */
export const MILLIS = /^\d[\d,]*(\.\d+)?\s*ms$/;
/** A stage latency: a figure, or a dash when no tick passes the stage. */
export const STAGE_LATENCY = /^(\d[\d,]*(\.\d+)?\s*(ms|µs|s)|[–—-])$/;
/** A rate: `220/s`, `1,234/s`, `11.2k/s`. */
export const RATE = /^\d[\d,]*(\.\d+)?\s*[kM]?\s*\/\s*s$/;
/** Text that means a number was lost on the way to the screen. */
export const BROKEN_TEXT = /\bNaN\b|\bundefined\b|\binf\b|\bInfinity\b/;

/** The number in a figure: `1,234.5`, `+0.52%`, `-1.20`, `220/s`, `11.2k/s`, `1.2 ms`. NaN if none. */
export function numberIn(text: string): number {
  const match = text.replace(/\u2212/g, '-').match(/([+-]?\d[\d,]*(?:\.\d+)?)\s*([kM])?/);
  if (!match) return Number.NaN;
  const value = Number(match[1].replace(/,/g, ''));
  return match[2] === 'k' ? value * 1e3 : match[2] === 'M' ? value * 1e6 : value;
}

/** The number a locator shows now. */
export async function numberOf(locator: Locator): Promise<number> {
  return numberIn(await locator.innerText());
}

/** A numeric attribute of a locator now (NaN when missing). */
export async function numericAttribute(locator: Locator, name: string): Promise<number> {
  const value = await locator.getAttribute(name);
  return value === null ? Number.NaN : Number(value);
}

/** One of the footer's stream counters (ticks-received, seq-gaps, ...). */
export function counter(page: Page, testId: string): Promise<number> {
  return numberOf(page.getByTestId(testId));
}

export function watchlistRow(page: Page, symbol: string): Locator {
  return page.locator(`[data-testid="watchlist-row"][data-symbol="${symbol}"]`);
}

export function stageCard(page: Page, stage: string): Locator {
  return page.locator(`[data-testid="stage-card"][data-stage="${stage}"]`);
}

/** Waits until the page says its stream is live. */
export async function expectLive(page: Page, timeout = 10_000): Promise<void> {
  await expect(page.getByTestId('connection-status')).toHaveAttribute('data-status', 'live', { timeout });
}

/** Waits until the chart has drawn candles and the pipeline panel shows
 * measured figures (for screenshots). */
export async function expectChartAndPipeline(page: Page, timeout = 10_000): Promise<void> {
  const canvas = page.getByTestId('chart-canvas');
  await expect.poll(() => numericAttribute(canvas, 'data-candles'), { timeout }).toBeGreaterThanOrEqual(1);
  await expect.poll(() => numberOf(stageCard(page, 'gateway').getByTestId('stage-rate')), { timeout }).toBeGreaterThan(0);
  await expect(page.getByTestId('e2e-p50')).toHaveText(MILLIS, { timeout });
  await expect.poll(() => numericAttribute(page.getByTestId('throughput-canvas'), 'data-points'), { timeout })
    .toBeGreaterThanOrEqual(1);
}

/** The visible watchlist rows' symbols, top to bottom. */
export async function visibleSymbols(page: Page): Promise<string[]> {
  return page
    .getByTestId('watchlist-row')
    .filter({ visible: true })
    .evaluateAll((rows) => rows.map((row) => row.getAttribute('data-symbol') ?? ''));
}

/** The visible watchlist rows' cells with `testId`, top to bottom, as text
 * (read in one go, so they are one consistent moment of the table). */
export async function visibleCells(page: Page, testId: string): Promise<string[]> {
  return page
    .getByTestId('watchlist-row')
    .filter({ visible: true })
    .evaluateAll(
      (rows, id) => rows.map((row) => (row.querySelector(`[data-testid="${id}"]`) as HTMLElement | null)?.innerText ?? ''),
      testId,
    );
}

/** 'asc', 'desc', 'flat' (all equal) or 'none' (not ordered). */
export function ordering<T>(values: T[], compare: (a: T, b: T) => number): 'asc' | 'desc' | 'flat' | 'none' {
  let up = false;
  let down = false;
  for (let i = 1; i < values.length; i++) {
    const c = compare(values[i - 1], values[i]);
    if (c < 0) up = true;
    if (c > 0) down = true;
  }
  if (up && down) return 'none';
  return up ? 'asc' : down ? 'desc' : 'flat';
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
