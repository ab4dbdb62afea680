// A local stand-in for Alpha Vantage, for browser tests that fetch symbols:
// the integration tests' own fake (backend/tests/api/fake_alphavantage.rs),
// run as the example program `fake_alphavantage` that `cargo test` builds
// beside the marquee binary. It serves the real sample responses recorded in
// backend/tests/fixtures/alphavantage and the failure bodies Alpha Vantage
// really sends, chosen by symbol (`BAD`, `LIMIT`, `HTML`, `JUNK`, `SLOW`,
// `E500`, ...: see the Rust file); any other symbol gets 30 daily bars
// ending at a close of `100 + symbol length`.
import * as path from 'node:path';

import { marqueeBin, startProgram } from './support';

/** The program: `examples/` beside the marquee binary under test. */
const program =
  process.env.MARQUEE_FAKE_ALPHAVANTAGE ?? path.join(path.dirname(marqueeBin), 'examples', 'fake_alphavantage');

/** The close of the last daily bar the fake serves for `symbol`. */
export function latestClose(symbol: string): number {
  return 100 + symbol.length;
}

export interface FakeRequest {
  function: string;
  symbol: string;
  /** Whether the request carried the expected key. */
  key_ok: boolean;
}

export interface FakeAlphaVantage {
  /** `http://127.0.0.1:PORT/query`: set MARQUEE_ALPHAVANTAGE_URL to this. */
  url: string;
  /** The key it accepts: set ALPHAVANTAGE_API_KEY to this. */
  apiKey: string;
  /** Every request seen, in order. */
  requests(): Promise<FakeRequest[]>;
  /** How many requests with the key asked for `fn` about `symbol`. */
  count(fn: string, symbol: string): Promise<number>;
  close(): Promise<void>;
}

/** Starts the fake; resolves once it has printed where it listens. */
export async function startFakeAlphaVantage(): Promise<FakeAlphaVantage> {
  const fake = await startProgram<{ url: string; api_key: string }>(program);
  const origin = new URL(fake.started.url).origin;
  const requests = async (): Promise<FakeRequest[]> => (await fetch(`${origin}/requests`)).json();
  return {
    url: fake.started.url,
    apiKey: fake.started.api_key,
    requests,
    count: async (fn, symbol) =>
      (await requests()).filter((r) => r.key_ok && r.function === fn && r.symbol === symbol).length,
    close: fake.close,
  };
}
