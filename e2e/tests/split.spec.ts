// Marquee split into three processes joined by Kafka (the Tansu stand-in
// scripts/test starts; it makes the topics and names them here): the
// gateway's dashboard shows one group of stage cards per process, each with
// its Kafka figures, and an operator action on the gateway reaches the driver.
import * as path from 'node:path';

import { expect, test } from '@playwright/test';

import { freshDataDir, MarqueeProcess } from './support';
import { expectLive, numberOf } from './ui';

const brokers = process.env.MARQUEE_E2E_KAFKA_BROKERS;
const prefix = process.env.MARQUEE_E2E_KAFKA_PREFIX;

test('a split deployment shows one card group per process and forwards operator actions', async ({ page }) => {
  if (!brokers || !prefix) {
    throw new Error('MARQUEE_E2E_KAFKA_BROKERS and MARQUEE_E2E_KAFKA_PREFIX must name a broker and its topics (scripts/test sets them)');
  }
  test.setTimeout(90_000);
  const kafka = [
    '--kafka-brokers', brokers,
    '--kafka-ticks-topic', `${prefix}.ticks`,
    '--kafka-bars-topic', `${prefix}.bars`,
    '--kafka-alerts-topic', `${prefix}.alerts`,
    '--kafka-heartbeats-topic', `${prefix}.heartbeats`,
    '--kafka-receiver-group', `${prefix}-receivers`,
    '--kafka-consumer-options', 'max.poll.interval.ms=6000',
  ];
  // One machine: the three share the embedded store's directory.
  const dataDir = freshDataDir();
  // Shared by the three: their heartbeats and forwarded requests are signed with it.
  const env = { MARQUEE_CLUSTER_SECRET: 'the browser test cluster secret' };
  const front = new MarqueeProcess({ dataDir, env, args: ['--role', 'ingest,driver', ...kafka] });
  const receiver = new MarqueeProcess({ dataDir, env, args: ['--role', 'receiver', ...kafka] });
  const gateway = new MarqueeProcess({ dataDir, env, args: ['--role', 'gateway', ...kafka] });
  try {
    await front.start();
    await receiver.start();
    await gateway.start();
    await page.goto(gateway.url);
    await expectLive(page);

    // One group per process, headed by its roles, each up.
    const groups = page.getByTestId('instance');
    await expect(groups).toHaveCount(3, { timeout: 20_000 });
    for (const roles of ['ingest + driver', 'receiver', 'gateway']) {
      const group = page.locator(`[data-testid="instance"][data-roles="${roles}"]`);
      await expect(group).toHaveAttribute('data-status', 'up', { timeout: 20_000 });
      await expect(group.locator('.instance-head')).toContainText(roles.split(' + ')[0], { ignoreCase: true });
    }
    const receiverGroup = page.locator('[data-testid="instance"][data-roles="receiver"]');
    await expect(receiverGroup.locator('[data-testid="stage-card"][data-stage="receiver"] [data-testid="stage-lag"]'))
      .toHaveText(/^\d+$/, { timeout: 15_000 });
    const driverGroup = page.locator('[data-testid="instance"][data-roles="ingest + driver"]');
    await expect(driverGroup.locator('[data-testid="stage-card"][data-stage="driver"] [data-testid="stage-queue"]'))
      .toHaveText(/^\d+$/, { timeout: 15_000 });

    // Ticks arrive through Kafka.
    const ticks = page.getByTestId('ticks-received');
    await expect.poll(() => numberOf(ticks), { timeout: 20_000 }).toBeGreaterThan(100);

    // Stop, pressed on the gateway's dashboard, is carried out by the driver.
    const sim = page.getByTestId('simulation-state');
    await expect(sim).toHaveAttribute('data-state', 'running', { timeout: 20_000 });
    const stopped = page.waitForResponse((r) => /\/api\/v1\/simulation\/stop/.test(r.url()) && r.status() === 200);
    await page.getByTestId('sim-stop').click();
    await stopped;
    expect((await front.health()).simulation.state).toBe('stopped');
    await expect(sim).toHaveAttribute('data-state', 'stopped', { timeout: 10_000 });
    await page.screenshot({ path: path.join(__dirname, '..', 'artifacts', 'split-1440x900.png') });
  } finally {
    await gateway.stop();
    await receiver.stop();
    await front.stop();
  }
});
