// How much work the dashboard does in the browser while ticks stream: the
// real marquee binary and the trunk-built dashboard in Debian's Chromium, at
// a given tick rate, measured by Chromium itself (the DevTools protocol's
// Performance metrics) over a window after a warm-up:
//
//   node e2e/bench/render.mjs [--marquee target/debug/marquee] [--dist dist[,other-dist...]]
//        [--interval-ms 100,10] [--seconds 10]
//
// Prints, per tick rate and per build of the dashboard (several builds are
// measured side by side in one run, alternating): ticks the page received
// per second, animation frames per second, and main-thread time per second
// (script, style and layout, all tasks) and per frame (BENCHMARKS.md, the
// dashboard's render work).
import { spawn, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const require = createRequire(path.join(repo, 'e2e', 'package.json'));
const { chromium } = require('playwright-core');

function arg(name, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : fallback;
}
const marquee = arg('marquee', path.join(repo, 'target', 'debug', 'marquee'));
const dists = arg('dist', path.join(repo, 'dist')).split(',');
const intervals = arg('interval-ms', '100,10').split(',').map(Number);
const seconds = Number(arg('seconds', '10'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function freePort() {
  const script = "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})";
  return Number(execFileSync(process.execPath, ['-e', script]).toString().trim());
}

async function serve(dist, intervalMs) {
  const port = freePort();
  const data = fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-render-'));
  const env = { ...process.env, ALPHAVANTAGE_API_KEY: '', MARQUEE_OPERATOR_TOKEN: '' };
  const child = spawn(marquee, ['serve', '--listen', `127.0.0.1:${port}`, '--static-dir', dist, '--data-dir', data,
    '--tick-interval-ms', String(intervalMs)], { stdio: 'ignore', env });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok || res.status === 503) return { child, url };
    } catch {}
    await sleep(100);
  }
  child.kill();
  throw new Error(`${marquee} did not answer on ${url}`);
}

async function measure(browser, url) {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  await page.goto(url);
  const received = async () => Number((await page.getByTestId('ticks-received').innerText()).replace(/\D/g, ''));
  for (let i = 0; i < 100 && (await received()) === 0; i++) await sleep(100);
  await sleep(5_000); // warm-up: history loaded, chart drawn, caches full
  await page.evaluate(() => {
    window.__frames = 0;
    const count = () => { window.__frames++; requestAnimationFrame(count); };
    requestAnimationFrame(count);
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const metrics = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const [m0, t0, f0] = [await metrics(), await received(), await page.evaluate(() => window.__frames)];
  await sleep(seconds * 1000);
  const [m1, t1, f1] = [await metrics(), await received(), await page.evaluate(() => window.__frames)];
  await page.close();
  const per = (name) => ((m1[name] - m0[name]) * 1000) / seconds; // ms of it per second
  const frames = (f1 - f0) / seconds;
  return {
    ticks: (t1 - t0) / seconds,
    frames,
    script: per('ScriptDuration'),
    style: per('RecalcStyleDuration') + per('LayoutDuration'),
    task: per('TaskDuration'),
    taskPerFrame: frames > 0 ? per('TaskDuration') / frames : NaN,
  };
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--disable-quic', '--no-first-run'],
});
console.log(`${seconds} s per rate and build, after a 5 s warm-up`);
console.log('| dashboard | tick interval | ticks/s at the page | frames/s | script ms/s | style+layout ms/s | main-thread ms/s | main-thread ms/frame |');
console.log('|---|---|---|---|---|---|---|---|');
for (const intervalMs of intervals) {
  for (const dist of dists) {
    const { child, url } = await serve(dist, intervalMs);
    try {
      const r = await measure(browser, url);
      const f = (v, d = 1) => v.toFixed(d);
      console.log(`| ${dist} | ${intervalMs} ms | ${f(r.ticks, 0)} | ${f(r.frames)} | ${f(r.script)} | ${f(r.style)} | ${f(r.task)} | ${f(r.taskPerFrame, 2)} |`);
    } finally {
      child.kill('SIGTERM');
    }
  }
}
await browser.close();
