// The operator's controls, on a server that requires the operator token:
// the token prompt, stopping/starting/pausing/speeding up the simulation,
// fetching a symbol from (a local stand-in for) Alpha Vantage, a CSV
// upload, replaying the recorded session, and a test alert to a webhook.
// Each test owns its server and its fakes.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { test, expect, type Page } from '@playwright/test';
import { latestClose, startFakeAlphaVantage, type FakeAlphaVantage } from './fake-alphavantage';
import { MarqueeProcess, freshDataDir } from './support';
import { PRICE, expectLive, numberOf, sleep, watchlistRow } from './ui';

const TOKEN = 'secret-token';

/** With an API key `serve` loads no demo data by default: `--demo on` keeps
 * a streaming universe to operate on. `symbols` picks which demo symbols. */
function operatorServer(fake: FakeAlphaVantage, symbols?: string[]): MarqueeProcess {
  return new MarqueeProcess({
    args: ['--demo', 'on', ...(symbols ? ['--symbols', symbols.join(',')] : [])],
    env: {
      ALPHAVANTAGE_API_KEY: fake.apiKey,
      MARQUEE_ALPHAVANTAGE_URL: fake.url,
      MARQUEE_ALPHAVANTAGE_RPM: '600',
      MARQUEE_ALPHAVANTAGE_BACKOFF_MS: '50',
      MARQUEE_OPERATOR_TOKEN: TOKEN,
    },
  });
}

/** The tape's text, sampled twice `ms` apart: equal when nothing ticks. */
async function tapeIsStill(page: Page, ms = 1_500): Promise<boolean> {
  const tape = page.getByTestId('ticker-tape');
  const before = await tape.innerText();
  await sleep(ms);
  return before === (await tape.innerText());
}

async function simulationOverRest(server: MarqueeProcess): Promise<{ state: string; speed?: number }> {
  const res = await fetch(`${server.url}/api/v1/simulation`);
  return (await res.json()) as { state: string; speed?: number };
}

/** Answers the token prompt (which must be showing) with `token` and waits
 * for the server's answer to the retried request that matches `url`. */
async function answerPrompt(page: Page, token: string, url: RegExp, status: number) {
  await expect(page.getByTestId('token-prompt')).toBeVisible();
  await page.getByTestId('token-input').fill(token);
  const answered = page.waitForResponse((r) => url.test(r.url()) && r.request().method() !== 'GET' && r.status() === status);
  await page.getByTestId('token-submit').click();
  await answered;
}

test('simulation controls ask for the operator token, then stop, start, pause and speed up', async ({ page }) => {
  const fake = await startFakeAlphaVantage();
  const server = operatorServer(fake);
  try {
    await server.start();
    await server.waitForSimulation('running');
    await page.goto(server.url);
    await expectLive(page);
    const sim = page.getByTestId('simulation-state');
    await expect(sim).toContainText('streaming');

    // Without the token the server answers 401 and the page asks for it.
    const refused = page.waitForResponse((r) => /\/api\/v1\/simulation\/stop/.test(r.url()) && r.status() === 401);
    await page.getByTestId('sim-stop').click();
    await refused;
    await expect(page.getByTestId('token-prompt')).toBeVisible();
    await expect(page.getByTestId('token-input')).toHaveAttribute('type', 'password');

    // A wrong token is refused too, and nothing stops.
    await answerPrompt(page, 'not-the-token', /\/api\/v1\/simulation\/stop/, 401);
    await expect(page.getByTestId('token-prompt')).toBeVisible();
    expect((await simulationOverRest(server)).state).toBe('running');

    // The right one: the stop goes through.
    await answerPrompt(page, TOKEN, /\/api\/v1\/simulation\/stop/, 200);
    await expect(page.getByTestId('token-prompt')).toBeHidden();
    await expect(sim).toContainText('stopped');
    await expect.poll(() => tapeIsStill(page), { message: 'the tape stops', timeout: 10_000 }).toBe(true);
    expect((await simulationOverRest(server)).state).toBe('stopped');

    // The page keeps the token: start needs no second prompt.
    await page.getByTestId('sim-start').click();
    await expect(sim).toContainText('streaming');
    await expect(page.getByTestId('token-prompt')).toBeHidden();
    await expect.poll(() => tapeIsStill(page, 1_000), { message: 'the tape moves again' }).toBe(false);

    await page.getByTestId('sim-pause').click();
    await expect(sim).toContainText('paused');
    await expect.poll(() => tapeIsStill(page), { message: 'the tape holds while paused', timeout: 10_000 }).toBe(true);
    await page.getByTestId('sim-resume').click();
    await expect(sim).toContainText('streaming');

    await page.getByTestId('sim-speed').selectOption('2');
    await expect(sim).toContainText(/at 2x/);
    expect((await simulationOverRest(server)).speed).toBe(2);
    await expect(page.getByTestId('sim-speed')).toHaveValue('2');
    await expect.poll(() => tapeIsStill(page, 1_000), { message: 'the tape moves at 2x' }).toBe(false);
  } finally {
    try {
      await server.stop();
    } finally {
      await fake.close();
    }
  }
});

test('fetching a symbol and uploading a CSV add rows to the watchlist', async ({ page }) => {
  const fake = await startFakeAlphaVantage();
  // Five demo symbols (the threshold), so IBM (the fixtures' symbol) is new.
  const demo = ['AAPL', 'MSFT', 'NVDA', 'GOOGL', 'AMZN'];
  const server = operatorServer(fake, demo);
  try {
    await server.start();
    await server.waitForSimulation('running');
    await page.goto(server.url);
    await expectLive(page);
    await expect(page.getByTestId('watchlist-row')).toHaveCount(demo.length);

    // Fetch IBM (and BAD, which Alpha Vantage refuses): the first operator
    // action on this page, so the token is asked for.
    await page.getByTestId('fetch-symbols').fill('IBM, BAD');
    await page.getByTestId('fetch-submit').click();
    await answerPrompt(page, TOKEN, /\/api\/v1\/fetch/, 202);
    await expect(page.getByTestId('token-prompt')).toBeHidden();

    const progress = page.getByTestId('fetch-progress');
    const ibm = progress.locator('[data-testid="fetch-entry"][data-symbol="IBM"]');
    const bad = progress.locator('[data-testid="fetch-entry"][data-symbol="BAD"]');
    await expect(ibm).toHaveAttribute('data-state', 'done', { timeout: 15_000 });
    await expect(bad).toHaveAttribute('data-state', 'failed', { timeout: 15_000 });
    expect(await fake.count('TIME_SERIES_DAILY', 'IBM')).toBeGreaterThanOrEqual(1);
    expect((await fake.requests()).every((r) => r.key_ok), 'every request carried the key').toBe(true);

    // IBM joins the watchlist, labelled with its source, priced from the
    // fetched history (the simulation starts from its last close).
    const ibmRow = watchlistRow(page, 'IBM');
    await expect(ibmRow).toBeVisible({ timeout: 10_000 });
    await expect(ibmRow.getByTestId('row-source')).toHaveAttribute('title', 'Alpha Vantage');
    await expect(ibmRow.getByTestId('row-last')).toHaveText(PRICE);
    await expect
      .poll(() => numberOf(ibmRow.getByTestId('row-last')))
      .toBeGreaterThan(latestClose('IBM') * 0.9);
    expect(await numberOf(ibmRow.getByTestId('row-last'))).toBeLessThan(latestClose('IBM') * 1.1);
    await expect(watchlistRow(page, 'BAD')).toHaveCount(0);
    await expect(page.getByTestId('events-log')).toContainText('IBM');

    // A CSV upload (the page already has the token).
    const csv =
      'date,open,high,low,close,volume\n' +
      '2024-05-01,10,11,9,10.5,100\n' +
      '2024-05-02,10.5,12,10,11.5,200\n' +
      '2024-05-03,11.5,12.5,11,12,300\n';
    await page.getByTestId('csv-symbol').fill('ACME');
    const imported = page.waitForResponse((r) => /\/api\/v1\/import/.test(r.url()));
    await page.getByTestId('csv-file').setInputFiles({
      name: 'acme.csv',
      mimeType: 'text/csv',
      buffer: Buffer.from(csv),
    });
    expect((await imported).status()).toBe(200);
    const status = page.getByTestId('csv-status');
    await expect(status).toContainText(/ACME|\b3\b|import|stored|success|done/i);
    await expect(status).not.toContainText(/error|fail|invalid|refused/i);
    const acme = watchlistRow(page, 'ACME');
    await expect(acme).toBeVisible({ timeout: 10_000 });
    await expect(acme.getByTestId('row-source')).toHaveAttribute('title', 'CSV import');
    await expect(page.getByTestId('watchlist-row')).toHaveCount(demo.length + 2);
  } finally {
    try {
      await server.stop();
    } finally {
      await fake.close();
    }
  }
});

test('replaying the recorded session marks the symbols Replay, stops on demand, and the simulation goes on', async ({ page }) => {
  const server = new MarqueeProcess({
    args: ['--symbols', 'AAPL,MSFT,NVDA,GOOGL,AMZN'],
    env: { MARQUEE_OPERATOR_TOKEN: TOKEN },
  });
  try {
    await server.start();
    await server.waitForSimulation('running');
    await page.goto(server.url);
    await expectLive(page);
    // A few seconds of session to play again (the window is the last quarter hour).
    await sleep(3_000);
    const aapl = watchlistRow(page, 'AAPL').getByTestId('row-feed');
    await expect(aapl).toHaveText('Simulated');
    const status = page.getByTestId('replay-status');

    // At the recorded pace: asked for the token, then playing.
    await page.getByTestId('replay-speed').selectOption('1');
    const refused = page.waitForResponse((r) => /\/api\/v1\/replay$/.test(r.url()) && r.status() === 401);
    await page.getByTestId('replay-start').click();
    await refused;
    await answerPrompt(page, TOKEN, /\/api\/v1\/replay$/, 202);
    await expect(status).toHaveAttribute('data-state', 'playing');
    await expect(status).toContainText('replaying');
    await expect(aapl).toHaveText('Replay');
    await expect(page.getByTestId('events-log')).toContainText('replay of');

    await page.getByTestId('replay-stop').click();
    await expect(status).toHaveAttribute('data-state', 'finished');
    await expect(status).toContainText('stopped by the operator');
    await expect(aapl).toHaveText('Simulated');

    // A hundred times as fast, to the window's end; then the tape moves on.
    await page.getByTestId('replay-speed').selectOption('100');
    await page.getByTestId('replay-start').click();
    await expect(status).toContainText('played to the end of the window', { timeout: 20_000 });
    await expect(page.getByTestId('events-log')).toContainText('replay finished');
    await expect(aapl).toHaveText('Simulated');
    await expect.poll(() => tapeIsStill(page, 1_000), { message: 'the simulation goes on' }).toBe(false);
    expect((await simulationOverRest(server)).state).toBe('running');
  } finally {
    await server.stop();
  }
});

test('a test alert goes to the webhook sink, and the alerts panel shows its delivery', async ({ page }) => {
  // A webhook receiver: records each POST's body and answers 200.
  const bodies: string[] = [];
  const hook = http.createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      bodies.push(body);
      res.end('ok');
    });
  });
  await new Promise<void>((resolve) => hook.listen(0, '127.0.0.1', resolve));
  const port = (hook.address() as { port: number }).port;
  const dataDir = freshDataDir();
  const config = path.join(dataDir, 'alerts.toml');
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(config, '[[sink]]\nname = "ops"\ntype = "webhook"\n');
  const server = new MarqueeProcess({
    dataDir,
    args: ['--symbols', 'AAPL,MSFT,NVDA,GOOGL,AMZN'],
    env: {
      MARQUEE_OPERATOR_TOKEN: TOKEN,
      MARQUEE_ALERTS_CONFIG: config,
      MARQUEE_WEBHOOK_URL: `http://127.0.0.1:${port}/hook`,
      MARQUEE_WEBHOOK_SECRET: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    },
  });
  try {
    await server.start();
    await page.goto(server.url);
    await expectLive(page);
    const refused = page.waitForResponse((r) => /\/api\/v1\/alerts\/test$/.test(r.url()) && r.status() === 401);
    await page.getByTestId('test-alert').click();
    await refused;
    await answerPrompt(page, TOKEN, /\/api\/v1\/alerts\/test$/, 202);
    await expect(page.getByTestId('test-alert-status')).toHaveText('test alert queued for ops');
    await expect.poll(() => bodies.length, { message: 'the webhook receives the test alert' }).toBe(1);
    expect(JSON.parse(bodies[0]).type).toBe('alert.test');
    const row = page.locator('[data-testid="sink-row"][data-sink="ops"]');
    await expect(row.getByTestId('sink-delivered')).toHaveText('1');
    await expect(row.getByTestId('sink-last')).toContainText('✓ delivered');
    await expect(row).toHaveAttribute('data-status', 'up');
  } finally {
    await server.stop();
    await new Promise((resolve) => hook.close(resolve));
  }
});
