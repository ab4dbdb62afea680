// A local stand-in for Alpha Vantage, for browser tests that fetch symbols.
// It mirrors backend/tests/api/fake_alphavantage.rs: the real sample
// responses recorded in backend/tests/fixtures/alphavantage, adapted to the
// requested symbol, plus the failure bodies Alpha Vantage really sends (all
// with HTTP 200), chosen by symbol:
//
// | symbol  | answer                                                   |
// |---------|----------------------------------------------------------|
// | `BAD`   | `{"Error Message": ...}` (not retried by the client)     |
// | `LIMIT` | a rate-limit `Note` the first time, then data            |
// | `HTML`  | an HTML error page                                       |
// | `JUNK`  | truncated JSON                                           |
// | `SLOW`  | daily data after 3 s                                     |
// | `E500`  | HTTP 500                                                 |
// | other   | 30 daily bars ending at a close of `100 + symbol length` |
//
// Functions: TIME_SERIES_DAILY (generated like the Rust fake: there is no
// recorded daily sample), TIME_SERIES_INTRADAY (mock_time_series.json),
// GLOBAL_QUOTE (global_quote.json), OVERVIEW (mock_company_overview.json),
// SYMBOL_SEARCH (symbol_search.json). Anything else gets Alpha Vantage's
// "Invalid API call" body.
//
// Any path is answered, so both a base URL that already ends in `/query`
// (what the client sends to today) and one the client appends `/query` to
// reach the fake.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

const repo = path.resolve(__dirname, '..', '..');
const fixtures = path.join(repo, 'backend', 'tests', 'fixtures', 'alphavantage');

/** The key the fake accepts unless told otherwise. */
export const FAKE_ALPHAVANTAGE_KEY = 'test-key';

/** The close of the last daily bar the fake serves for `symbol`. */
export function latestClose(symbol: string): number {
  return 100 + symbol.length;
}

export interface FakeRequest {
  function: string;
  symbol: string;
  /** Whether the request carried the expected key. */
  keyOk: boolean;
}

export interface FakeAlphaVantage {
  /** `http://127.0.0.1:PORT/query`: set MARQUEE_ALPHAVANTAGE_URL to this. */
  url: string;
  /** `http://127.0.0.1:PORT`, for a client that appends `/query` itself. */
  origin: string;
  /** Every request seen, in order. */
  requests: FakeRequest[];
  /** How many requests with the key asked for `fn` about `symbol`. */
  count(fn: string, symbol: string): number;
  close(): Promise<void>;
}

export interface FakeOptions {
  /** The accepted `apikey`; `null` accepts any. Default FAKE_ALPHAVANTAGE_KEY. */
  apiKey?: string | null;
}

function fixture(name: string): string {
  return fs.readFileSync(path.join(fixtures, name), 'utf8');
}

/** 30 daily bars (2024-04-01 .. 2024-04-30), rising 0.5 a day to latestClose(symbol). */
function daily(symbol: string): string {
  const days: string[] = [];
  for (let i = 0; i < 30; i++) {
    const close = latestClose(symbol) - (29 - i) * 0.5;
    const day = String(i + 1).padStart(2, '0');
    days.push(
      `"2024-04-${day}": {"1. open": "${(close - 0.25).toFixed(4)}", "2. high": "${(close + 1).toFixed(4)}", ` +
        `"3. low": "${(close - 1).toFixed(4)}", "4. close": "${close.toFixed(4)}", "5. volume": "${1_000_000 + i * 1000}"}`,
    );
  }
  return (
    `{"Meta Data": {"1. Information": "Daily Prices", "2. Symbol": "${symbol}", "5. Time Zone": "US/Eastern"},\n` +
    ` "Time Series (Daily)": {${days.join(',')}}}`
  );
}

/** The recorded 1min intraday sample, relabelled for `symbol` and `interval`. */
function intraday(symbol: string, interval: string): string {
  return fixture('mock_time_series.json')
    .replace(/"2\. Symbol": "[^"]*"/, `"2. Symbol": "${symbol}"`)
    .replace(/"4\. Interval": "[^"]*"/, `"4. Interval": "${interval}"`)
    .replace(/"1\. Information": "Intraday \(1min\)/, `"1. Information": "Intraday (${interval})`)
    .replace('"Time Series (1min)"', `"Time Series (${interval})"`);
}

const ERROR_MESSAGE =
  '{"Error Message": "Invalid API call. Please retry or visit the documentation (https://www.alphavantage.co/documentation/) for TIME_SERIES_DAILY."}';
const RATE_NOTE =
  '{"Note": "Thank you for using Alpha Vantage! Our standard API call frequency is 5 calls per minute and 500 calls per day."}';
const BAD_KEY = '{"Information": "the parameter apikey is invalid or missing."}';

/** Starts the fake on 127.0.0.1 and a free port. */
export async function startFakeAlphaVantage(options: FakeOptions = {}): Promise<FakeAlphaVantage> {
  const expectedKey = options.apiKey === undefined ? FAKE_ALPHAVANTAGE_KEY : options.apiKey;
  const requests: FakeRequest[] = [];
  // Like the Rust fake, requests without the key do not count.
  const count = (fn: string, symbol: string) =>
    requests.filter((r) => r.keyOk && r.function === fn && r.symbol === symbol).length;

  const server = http.createServer((req, res) => {
    const query = new URL(req.url ?? '/', 'http://fake').searchParams;
    const fn = query.get('function') ?? '';
    const symbol = query.get('symbol') ?? query.get('keywords') ?? '';
    const keyOk = expectedKey === null || query.get('apikey') === expectedKey;
    requests.push({ function: fn, symbol, keyOk });

    const send = (body: string, status = 200, type = 'application/json') => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (!keyOk) return send(BAD_KEY);
    const seen = count(fn, symbol);

    switch (symbol) {
      case 'BAD':
        return send(ERROR_MESSAGE);
      case 'LIMIT':
        if (seen === 1) return send(RATE_NOTE);
        break;
      case 'E500':
        return send('upstream exploded', 500, 'text/plain');
      case 'HTML':
        return send(
          '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>',
          200,
          'text/html',
        );
      case 'JUNK':
        return send('{"Meta Data": {"2. Symbol": "JUNK"}, "Time Series (Daily)": {"2024-04-01": {"1. open"');
    }
    switch (fn) {
      case 'TIME_SERIES_DAILY':
        if (symbol === 'SLOW') {
          setTimeout(() => send(daily(symbol)), 3000);
          return;
        }
        return send(daily(symbol));
      case 'TIME_SERIES_INTRADAY':
        return send(intraday(symbol, query.get('interval') ?? '1min'));
      case 'GLOBAL_QUOTE':
        return send(fixture('global_quote.json').replace(/"01\. symbol": "[^"]*"/, `"01. symbol": "${symbol}"`));
      case 'OVERVIEW':
        return send(fixture('mock_company_overview.json').replace('"Symbol": "IBM"', `"Symbol": "${symbol}"`));
      case 'SYMBOL_SEARCH':
        return send(fixture('symbol_search.json'));
      default:
        return send('{"Error Message": "Invalid API call."}');
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  return {
    url: `${origin}/query`,
    origin,
    requests,
    count,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
