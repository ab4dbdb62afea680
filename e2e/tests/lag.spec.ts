// A page on a network too slow for the stream: the server conflates it, the
// badge says "lagged · catching up" instead of "live", and once the network
// is fast again the page is live within a bound, with no stale row: every
// watchlist and tape row is where the server's quotes are.
//
// The slowness is real: Chromium's own network emulation (CDP
// Network.emulateNetworkConditions). Checked in this Chromium (156): a
// WebSocket takes the rate in force when it opens; a socket opened
// unthrottled stays at full speed when a rate is set later, while lifting
// the rate applies at once. So the page is reloaded on the slow network,
// as a user on a slow link would open it, and the rate is then lifted.
//
// The server bounds each socket's kernel send buffer (`--client-send-buffer`,
// 256 KiB by default; Linux's autotuning would hold up to 4 MiB of ticks
// already written), so the `lagged` notice reaches the page within seconds.
// Ticks every 2 ms (about 1.7 MB/s of stream) keep a page at 512 KB/s behind
// for as long as it is throttled, and one that is not is easily live.
import * as path from 'node:path';

import { expect, test, type Page } from '@playwright/test';

import { MarqueeProcess } from './support';
import { counter, expectLive, numberIn, numericAttribute, stageCard } from './ui';

const artifacts = path.join(__dirname, '..', 'artifacts');
const THROTTLED_BYTES_PER_SECOND = 512 * 1024;
const TICK_INTERVAL_MS = '2';

/** Every watchlist row and every tape item as the page shows it now, read in one go. */
function shownQuotes(page: Page) {
  return page.evaluate(() => {
    const read = (selector: string, priceOf: (e: Element) => Element | null) =>
      Array.from(document.querySelectorAll(selector)).map((e) => {
        const price = priceOf(e) as HTMLElement | null;
        return {
          symbol: e.getAttribute('data-symbol') ?? '',
          seq: Number(price?.getAttribute('data-seq') ?? NaN),
          price: price?.innerText ?? '',
        };
      });
    return {
      rows: read('[data-testid="watchlist-row"]', (e) => e.querySelector('[data-testid="row-last"]')),
      tape: read('[data-testid="tape-item"]', (e) => e.querySelector('[data-testid="tape-price"]')),
    };
  });
}

interface ServerQuote {
  symbol: string;
  price: number;
  seq: number | null;
  live: boolean;
}

/** The server's live quote of every symbol (`GET /api/v1/quotes/{symbol}`). */
async function serverQuotes(url: string, symbols: string[]): Promise<Map<string, ServerQuote>> {
  const quotes = await Promise.all(
    symbols.map(async (symbol) => {
      const res = await fetch(`${url}/api/v1/quotes/${encodeURIComponent(symbol)}`);
      expect(res.status, `quote of ${symbol}`).toBe(200);
      return (await res.json()) as ServerQuote;
    }),
  );
  return new Map(quotes.map((q) => [q.symbol, q]));
}

test('a page on a slow network shows it lagged, then catches up with no stale row', async ({ page }) => {
  test.setTimeout(150_000);
  const server = new MarqueeProcess({
    // A throttled socket still accepts bytes: no stall, however long.
    args: ['--tick-interval-ms', TICK_INTERVAL_MS, '--client-stall-timeout', '60s'],
  });
  await server.start();
  const status = page.getByTestId('connection-status');
  try {
    await server.waitForSimulation('running');
    // Network events on before the page opens its WebSocket (see above).
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await page.goto(server.url);
    await expectLive(page);
    await expect.poll(() => counter(page, 'ticks-received'), { message: 'ticks before throttling' }).toBeGreaterThan(1_000);

    // The gateway's card shows the edge of the server this page talks to.
    const gateway = stageCard(page, 'gateway');
    await expect(gateway.getByTestId('edge-reasons')).toBeVisible();
    await expect.poll(() => numericAttribute(gateway.getByTestId('edge-connections'), 'data-value')).toBeGreaterThanOrEqual(1);
    await expect.poll(() => numericAttribute(gateway.getByTestId('edge-clients'), 'data-value')).toBeGreaterThanOrEqual(1);
    await expect(gateway.getByTestId('edge-disconnects')).toHaveText(/^closed \S/);
    await expect(gateway.getByTestId('edge-refused')).toHaveText(/^refused \S/);
    const conflations0 = await numericAttribute(gateway.getByTestId('edge-conflations'), 'data-value');
    expect(conflations0).toBeGreaterThanOrEqual(0);

    await expectLive(page);

    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 100,
      downloadThroughput: THROTTLED_BYTES_PER_SECOND,
      uploadThroughput: THROTTLED_BYTES_PER_SECOND,
    });
    const throttled = Date.now();
    await page.reload();
    // The reloaded page counts from zero.
    const lagged0 = 0;
    const skipped0 = 0;

    // Behind: the server conflates the page, and the badge says so (not live).
    await expect(status).toHaveAttribute('data-status', 'lagged', { timeout: 30_000 });
    const laggedAfterMs = Date.now() - throttled;
    await page.screenshot({ path: path.join(artifacts, 'lagged-1440x900.png') });
    await expect(status).toHaveText(/lagged · catching up/i);
    await expect.poll(() => counter(page, 'lagged-notices'), { message: 'lagged notices counted' }).toBeGreaterThan(lagged0);
    // It stays behind while the network is slow: one look a second later.
    await page.waitForTimeout(1_000);
    await expect(status).toHaveAttribute('data-status', 'lagged');

    // The network is fast again: live within 15 s, and the chart reads the
    // bars it missed from the store.
    const reload = page.waitForRequest((r) => /\/api\/v1\/bars\//.test(r.url()), { timeout: 20_000 });
    await cdp.send('Network.emulateNetworkConditions', {
      offline: false,
      latency: 0,
      downloadThroughput: -1,
      uploadThroughput: -1,
    });
    const lifted = Date.now();
    await expectLive(page, 15_000);
    const liveAfterMs = Date.now() - lifted;
    await reload;
    const report = {
      type: 'lag',
      description: `lagged ${laggedAfterMs} ms after throttling to ${THROTTLED_BYTES_PER_SECOND} B/s; live ${liveAfterMs} ms after lifting`,
    };
    test.info().annotations.push(report);
    console.log(`${report.type}: ${report.description}`);
    expect(await counter(page, 'lagged-notices')).toBeGreaterThan(lagged0);
    expect(await counter(page, 'skipped-messages')).toBeGreaterThan(skipped0);
    const ticksLive = await counter(page, 'ticks-received');
    await expect.poll(() => counter(page, 'ticks-received'), { message: 'ticks flow again' }).toBeGreaterThan(ticksLive);
    await expect
      .poll(() => numericAttribute(gateway.getByTestId('edge-conflations'), 'data-value'), {
        message: 'the gateway card counts the conflations',
      })
      .toBeGreaterThan(conflations0);
    await expect.poll(() => numericAttribute(gateway.getByTestId('edge-dropped'), 'data-value')).toBeGreaterThan(0);

    // No stale row while streaming: every row catches up with (or passes)
    // the seq the server had a moment before.
    const { rows } = await shownQuotes(page);
    const symbols = rows.map((r) => r.symbol);
    expect(symbols.length).toBeGreaterThanOrEqual(20);
    const before = await serverQuotes(server.url, symbols);
    await expect
      .poll(
        async () => {
          const shown = await shownQuotes(page);
          return [...shown.rows, ...shown.tape]
            .filter((r) => !(r.seq >= (before.get(r.symbol)?.seq ?? Infinity)))
            .map((r) => `${r.symbol} shows seq ${r.seq}, server had ${before.get(r.symbol)?.seq}`);
        },
        { message: 'rows behind the server', timeout: 10_000 },
      )
      .toEqual([]);

    // And exactly: with the simulation paused, every row and tape item
    // shows the server's last seq and price of its symbol.
    const paused = await fetch(`${server.url}/api/v1/simulation/pause`, { method: 'POST' });
    expect(paused.status).toBe(200);
    await expect(page.getByTestId('simulation-state')).toHaveAttribute('data-state', 'paused');
    await expect
      .poll(
        async () => {
          const last = await serverQuotes(server.url, symbols);
          const shown = await shownQuotes(page);
          return [...shown.rows, ...shown.tape]
            .filter((r) => {
              const q = last.get(r.symbol);
              return !q || q.seq !== r.seq || Math.abs(numberIn(r.price) - q.price) > 0.005;
            })
            .map((r) => `${r.symbol}: shows ${r.price} (seq ${r.seq}), server ${JSON.stringify(last.get(r.symbol))}`);
        },
        { message: 'rows that differ from the server', timeout: 10_000 },
      )
      .toEqual([]);
    await expect(status).toHaveAttribute('data-status', 'live');
  } finally {
    await server.stop();
  }
});
