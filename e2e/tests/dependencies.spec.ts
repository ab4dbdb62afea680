// Kafka away when marquee starts: the dashboard says which dependency is
// down, and everything recovers by itself, without a restart, once a broker
// answers (Tansu, the Kafka-protocol stand-in scripts/test names here).
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { expect, test } from '@playwright/test';

import { freePort, MarqueeProcess } from './support';
import { expectLive, numberOf } from './ui';

const tansu = process.env.MARQUEE_E2E_TANSU;

test('kafka down at start shows on the dashboard and recovers when the broker comes', async ({ page }) => {
  if (!tansu) throw new Error('MARQUEE_E2E_TANSU must name the tansu program (scripts/test sets it)');
  test.setTimeout(90_000);
  const port = freePort();
  const broker = `127.0.0.1:${port}`;
  const topics = ['ticks', 'bars', 'alerts', 'heartbeats'].map((t) => `dep.${t}`);
  const server = new MarqueeProcess({
    args: [
      '--kafka-brokers', broker,
      '--kafka-ticks-topic', topics[0],
      '--kafka-bars-topic', topics[1],
      '--kafka-alerts-topic', topics[2],
      '--kafka-heartbeats-topic', topics[3],
      '--kafka-consumer-options', 'max.poll.interval.ms=6000',
    ],
  });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-tansu-'));
  let brokerProcess: ReturnType<typeof spawn> | undefined;
  try {
    await server.start();
    await page.goto(server.url);
    await expectLive(page);
    const kafka = page.locator('[data-testid="dependency"][data-name="kafka"]');
    await expect(kafka).toHaveAttribute('data-status', 'down', { timeout: 15_000 });
    await expect(kafka).toContainText(`Kafka at ${broker}`);
    await expect(kafka).toContainText('no answer');

    // The broker comes up with the topics; marquee is not touched.
    const url = `tcp://${broker}`;
    brokerProcess = spawn(tansu, ['broker', '--listener-url', url, '--advertised-listener-url', url,
      '--storage-engine', 'sqlite://tansu.db'], { cwd: dir, stdio: 'ignore' });
    await expect.poll(() => {
      try {
        for (const topic of topics) {
          execFileSync(tansu, ['topic', 'create', topic, '--broker', url, '--partitions', '3'], { stdio: 'ignore' });
        }
        return true;
      } catch {
        return false;
      }
    }, { timeout: 20_000 }).toBe(true);

    await expect(kafka).toHaveAttribute('data-status', 'up', { timeout: 30_000 });
    const ticks = page.getByTestId('ticks-received');
    const before = await numberOf(ticks);
    await expect.poll(() => numberOf(ticks), { timeout: 30_000 }).toBeGreaterThan(before + 100);
  } finally {
    await server.stop();
    brokerProcess?.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
