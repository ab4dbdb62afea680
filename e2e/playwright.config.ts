// Browser tests against the real `marquee` binary and the trunk-built
// dashboard, in Debian's Chromium (never a downloaded browser).
//
// The server port is chosen free at start and shared with the workers through
// the environment, so no port is hard-coded.
import { defineConfig } from '@playwright/test';
import { freePort, marqueeBin, distDir, chromiumLaunch, freshDataDir } from './tests/support';

const port = (process.env.MARQUEE_E2E_PORT ??= String(freePort()));
const baseURL = `http://127.0.0.1:${port}`;
// A fresh store for every run, so each run starts like a new install.
const dataDir = (process.env.MARQUEE_E2E_DATA ??= freshDataDir());

export default defineConfig({
  testDir: './tests',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL,
    viewport: { width: 1440, height: 900 },
    launchOptions: chromiumLaunch,
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
  webServer: {
    command: `"${marqueeBin}" serve --listen 127.0.0.1:${port} --static-dir "${distDir}" --data-dir "${dataDir}"`,
    url: `${baseURL}/health`,
    reuseExistingServer: false,
    // The shared server runs the default configuration whatever the runner's
    // environment holds (an empty value counts as unset).
    env: { ALPHAVANTAGE_API_KEY: '', MARQUEE_OPERATOR_TOKEN: '' },
    timeout: 30_000,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
