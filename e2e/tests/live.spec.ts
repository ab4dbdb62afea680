// Live market data in the browser: a server streaming real trades from a
// (local) Coinbase feed beside the simulation. The feed's symbol is labelled
// "Live · Coinbase", the demo symbols "Simulated", its price and seq move
// with the venue's trades, and the pipeline panel lists the feed as a
// connected dependency with its counts; when the venue stops, the feed says
// it is reconnecting, and once the venue is back it is live again.
import * as path from 'node:path';

import { expect, test } from '@playwright/test';

import { startFakeCoinbase } from './fake-coinbase';
import { MarqueeProcess } from './support';
import { expectLive, watchlistRow } from './ui';

const artifacts = path.join(__dirname, '..', 'artifacts');

test('trades from a venue stream beside the simulation, labelled live, with the feed on the pipeline panel', async ({
  page,
}) => {
  let venue = await startFakeCoinbase();
  const server = new MarqueeProcess({
    args: ['--source', 'simulation', '--source', 'coinbase:BTC-USD', '--coinbase-url', venue.url],
  });
  try {
    await server.start();
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.goto(server.url);
    await expectLive(page);

    const btc = watchlistRow(page, 'BTC-USD');
    await expect(btc.getByTestId('row-feed')).toHaveText('Live · Coinbase', { timeout: 15_000 });
    await expect(btc.getByTestId('row-feed')).toHaveAttribute('data-feed', 'live');
    await expect(btc.getByTestId('row-source')).toHaveAttribute('title', 'Live trades');
    // The fake trades around 60,000.
    await expect(btc.getByTestId('row-last')).toHaveText(/^(59,9|60,0)\d\d\.\d\d$/);
    const seq = async () => Number(await btc.getByTestId('row-last').getAttribute('data-seq'));
    const first = await seq();
    await expect.poll(seq, { timeout: 10_000 }).toBeGreaterThan(first + 5);

    await expect(watchlistRow(page, 'AAPL').getByTestId('row-feed')).toHaveText('Simulated');

    const feed = page.locator('[data-testid="dependency"][data-name="feed coinbase"]');
    await expect(feed).toHaveAttribute('data-status', 'up', { timeout: 10_000 });
    await expect(feed).toHaveAttribute(
      'title',
      /^Coinbase: connected; \d+ trades \(\d+\.\d\/s\), \d+ messages \(\d+\.\d\/s\), 0 reconnects, 0 gaps \(0 trades missed\)/,
    );
    // The feed's own row: its measured figures.
    const row = page.locator('[data-testid="feed-row"][data-venue="coinbase"]');
    await expect(row).toHaveAttribute('data-status', 'up');
    await expect.poll(async () => Number(await row.getByTestId('feed-trades-rate').innerText())).toBeGreaterThan(0);
    await expect(row.getByTestId('feed-reconnects')).toHaveText('0');
    await expect(row.getByTestId('feed-latency')).toHaveText(/^\d+\.\d\/\d+$/);
    await page.screenshot({ path: path.join(artifacts, 'live-coinbase-1440x900.png') });

    // The venue stops: the feed says it is reconnecting.
    const port = Number(new URL(venue.url).port);
    await venue.close();
    await expect(row).toHaveAttribute('data-status', 'degraded', { timeout: 15_000 });
    await expect(row.getByTestId('feed-state')).toHaveText(/^reconnecting \(attempt \d+\)$/);
    await expect(feed).toHaveAttribute('title', /^Coinbase: reconnecting \(attempt \d+\)/);
    await expect(btc.getByTestId('row-feed')).toHaveText('Live · Coinbase');
    // Back on the same address: live again, trades moving, one reconnect more.
    venue = await startFakeCoinbase(port);
    await expect(row).toHaveAttribute('data-status', 'up', { timeout: 20_000 });
    await expect(row.getByTestId('feed-state')).toHaveText('connected');
    await expect.poll(async () => Number(await row.getByTestId('feed-reconnects').innerText())).toBeGreaterThanOrEqual(1);
    const resumed = await seq();
    await expect.poll(seq, { timeout: 10_000 }).toBeGreaterThan(resumed + 5);
  } finally {
    await server.stop();
    await venue.close();
  }
});
