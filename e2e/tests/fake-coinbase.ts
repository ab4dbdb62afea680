// A local Coinbase Exchange feed for the live-data browser test: the
// integration tests' own fake venue (backend/tests/api/fake_venue.rs), run
// as the example program `fake_coinbase` that `cargo test` builds beside the
// marquee binary. On every connection it takes the subscription, confirms
// it in the documented shape, and streams a BTC-USD trade every 100 ms.
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import * as readline from 'node:readline';

import { marqueeBin } from './support';

const program =
  process.env.MARQUEE_FAKE_COINBASE ?? path.join(path.dirname(marqueeBin), 'examples', 'fake_coinbase');

export interface FakeCoinbase {
  /** `ws://127.0.0.1:PORT/`: pass it as `--coinbase-url`. */
  url: string;
  close(): Promise<void>;
}

/** Starts the fake; resolves once it has printed where it listens. */
export async function startFakeCoinbase(): Promise<FakeCoinbase> {
  const child: ChildProcess = spawn(program, [], { stdio: ['pipe', 'pipe', 'inherit'] });
  const started = await new Promise<{ url: string }>((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`cannot run ${program}: ${err.message}`)));
    child.once('exit', (code) => reject(new Error(`${program} exited (${code}) before it listened`)));
    readline.createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line)));
  });
  return {
    url: started.url,
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.stdin?.end();
        child.kill('SIGTERM');
      }),
  };
}
