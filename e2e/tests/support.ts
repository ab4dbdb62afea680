// Shared helpers for the browser tests: where things are, free ports, and a
// marquee process a test can stop and start itself.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';

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

/** What a test may change about a server it owns. */
export interface MarqueeOptions {
  /** Extra `marquee serve` arguments, e.g. `['--tick-interval-ms', '5', '--client-queue', '16']`. */
  args?: string[];
  /** Extra environment, e.g. `{ MARQUEE_OPERATOR_TOKEN: 'secret' }`. The
   * server never inherits `MARQUEE_*` or `ALPHAVANTAGE_*` variables from the
   * test runner's environment, so a developer's key cannot change a test. */
  env?: Record<string, string>;
  /** The store's directory; default: a new one. Processes of one split
   * deployment on this machine share one. */
  dataDir?: string;
}

/** The parts of `GET /health` the tests read. */
export interface StageHealth {
  name: string;
  status: 'up' | 'degraded' | 'down';
  detail: string;
  processed: number;
  dropped: number;
  errors: number;
  rate?: number;
}
export interface Health {
  status: 'up' | 'degraded' | 'down';
  clients: number;
  simulation: { state: string; symbols?: number; speed?: number; have?: number; need?: number };
  stages: StageHealth[];
}

/** `GET /health` of the server at `url` (200 or 503: both carry the body). */
export async function health(url: string): Promise<Health> {
  const res = await fetch(`${url}/health`);
  return (await res.json()) as Health;
}

/** One stage of a health body (throws if the server does not report it). */
export function stage(body: Health, name: string): StageHealth {
  const found = body.stages.find((s) => s.name === name);
  if (!found) throw new Error(`no stage ${name} in /health: ${body.stages.map((s) => s.name).join(', ')}`);
  return found;
}

/** A marquee server owned by one test, so the test may kill and restart it
 * (on the same port and the same store). */
export class MarqueeProcess {
  private child?: ChildProcess;
  readonly port = freePort();
  readonly dataDir: string;
  readonly url = `http://127.0.0.1:${this.port}`;

  constructor(private readonly options: MarqueeOptions = {}) {
    this.dataDir = options.dataDir ?? freshDataDir();
  }

  /** Starts the server and waits until `/health` answers (200 or 503). */
  async start(): Promise<void> {
    const env: NodeJS.ProcessEnv = {};
    for (const [key, value] of Object.entries(process.env)) {
      if (!/^(MARQUEE_|ALPHAVANTAGE_)/.test(key)) env[key] = value;
    }
    Object.assign(env, this.options.env ?? {});
    const child = spawn(
      marqueeBin,
      [
        'serve',
        '--listen',
        `127.0.0.1:${this.port}`,
        '--static-dir',
        distDir,
        '--data-dir',
        this.dataDir,
        ...(this.options.args ?? []),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'], env },
    );
    this.child = child;
    let failure: Error | undefined;
    child.once('error', (err) => (failure = err));
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      if (failure) throw new Error(`cannot run ${marqueeBin}: ${failure.message}`);
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`marquee exited (${child.exitCode ?? child.signalCode}) before it was healthy on ${this.url}`);
      }
      try {
        const res = await fetch(`${this.url}/health`);
        // 503 means a stage is down, but the server is up and answering.
        if (res.ok || res.status === 503) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`marquee did not become healthy on ${this.url}`);
  }

  /** Stops the server with SIGTERM and waits for the process to exit
   * (SIGKILL after 20 s, so a hung shutdown cannot hang the suite). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      this.child = undefined;
      return;
    }
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
    this.child = undefined;
  }

  /** `GET /health`. */
  health(): Promise<Health> {
    return health(this.url);
  }

  /** Waits until `/health` says the simulation is in `state` (e.g. "running"). */
  async waitForSimulation(state: string, timeoutMs = 15_000): Promise<Health> {
    const deadline = Date.now() + timeoutMs;
    let last: Health | undefined;
    while (Date.now() < deadline) {
      last = await this.health();
      if (last.simulation.state === state) return last;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`simulation not ${state} after ${timeoutMs} ms: ${JSON.stringify(last?.simulation)}`);
  }
}

/** A stand-in program the browser tests run (an example beside the marquee binary). */
export interface Program<T> {
  /** Its one line of output, parsed: where it listens. */
  started: T;
  /** Stops it (closing its stdin, then SIGTERM) and waits for it to exit. */
  close(): Promise<void>;
}

/** Starts `program`; resolves once it has printed where it listens. */
export async function startProgram<T>(program: string, args: string[] = []): Promise<Program<T>> {
  const child: ChildProcess = spawn(program, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  const started = await new Promise<T>((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`cannot run ${program}: ${err.message}`)));
    child.once('exit', (code) => reject(new Error(`${program} exited (${code}) before it listened`)));
    readline.createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line)));
  });
  return {
    started,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin?.end();
        child.kill('SIGTERM');
      }),
  };
}
