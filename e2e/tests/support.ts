// Shared helpers for the browser tests: where things are, free ports, and a
// marquee process a test can stop and start itself.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const repo = path.resolve(__dirname, '..', '..');

export const marqueeBin = process.env.MARQUEE_BIN ?? path.join(repo, 'target', 'debug', 'marquee');
export const distDir = process.env.MARQUEE_DIST ?? path.join(repo, 'dist');

export const chromiumLaunch = {
  executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-quic',
    '--no-first-run',
  ],
};

/** A port that was free a moment ago (asked of the OS, synchronously). */
export function freePort(): number {
  const script =
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})";
  // A clean environment: Playwright's workers set NODE_OPTIONS (a loader)
  // that must not run in this helper process.
  const out = execFileSync(process.execPath, ['-e', script], { env: {} }).toString();
  const port = Number(out.trim().split('\n').pop());
  if (!Number.isInteger(port) || port <= 0) throw new Error(`could not find a free port: ${out}`);
  return port;
}

/** A new empty directory for a server's store. */
export function freshDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'marquee-e2e-'));
}

/** A marquee server owned by one test, so the test may kill and restart it
 * (on the same port and the same store). */
export class MarqueeProcess {
  private child?: ChildProcess;
  readonly port = freePort();
  readonly dataDir = freshDataDir();
  readonly url = `http://127.0.0.1:${this.port}`;

  async start(): Promise<void> {
    this.child = spawn(
      marqueeBin,
      ['serve', '--listen', `127.0.0.1:${this.port}`, '--static-dir', distDir, '--data-dir', this.dataDir],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      try {
        const res = await fetch(`${this.url}/health`);
        if (res.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`marquee did not become healthy on ${this.url}`);
  }

  /** Stops the server with SIGTERM and waits for the process to exit. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    this.child = undefined;
  }
}
