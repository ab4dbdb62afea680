// A local Coinbase Exchange feed for the live-data browser test: the
// integration tests' own fake venue (backend/tests/api/fake_venue.rs), run
// as the example program `fake_coinbase` that `cargo test` builds beside the
// marquee binary. On every connection it takes the subscription, confirms
// it in the documented shape, and streams a BTC-USD trade every 100 ms.
import * as path from 'node:path';

import { marqueeBin, startProgram } from './support';

const program =
  process.env.MARQUEE_FAKE_COINBASE ?? path.join(path.dirname(marqueeBin), 'examples', 'fake_coinbase');

export interface FakeCoinbase {
  /** `ws://127.0.0.1:PORT/`: pass it as `--coinbase-url`. */
  url: string;
  close(): Promise<void>;
}

/** Starts the fake (on `port`, to come back where it was); resolves once it
 * has printed where it listens. */
export async function startFakeCoinbase(port?: number): Promise<FakeCoinbase> {
  const fake = await startProgram<{ url: string }>(program, port ? ['--port', String(port)] : []);
  return { url: fake.started.url, close: fake.close };
}
