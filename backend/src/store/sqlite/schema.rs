//! The embedded store's tables. `CREATE ... IF NOT EXISTS`, so opening an
//! existing store changes nothing.

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS companies (
    symbol TEXT PRIMARY KEY, name TEXT NOT NULL, sector TEXT NOT NULL, industry TEXT NOT NULL,
    exchange TEXT NOT NULL, currency TEXT NOT NULL, description TEXT NOT NULL, market_cap INTEGER,
    source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS daily_bars (
    symbol TEXT NOT NULL, ts INTEGER NOT NULL, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL,
    close REAL NOT NULL, volume INTEGER NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (symbol, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS intraday_bars (
    symbol TEXT NOT NULL, interval TEXT NOT NULL, ts INTEGER NOT NULL, open REAL NOT NULL, high REAL NOT NULL,
    low REAL NOT NULL, close REAL NOT NULL, volume INTEGER NOT NULL, source TEXT NOT NULL,
    PRIMARY KEY (symbol, interval, ts)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ticks (
    symbol TEXT NOT NULL, seq INTEGER NOT NULL, ts INTEGER NOT NULL, price REAL NOT NULL,
    size INTEGER NOT NULL, change REAL NOT NULL, change_pct REAL NOT NULL,
    PRIMARY KEY (symbol, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, ts INTEGER NOT NULL, kind TEXT NOT NULL, body TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_ts ON events (ts);
CREATE TABLE IF NOT EXISTS live_bars (
    symbol TEXT NOT NULL, interval TEXT NOT NULL, start INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (symbol, interval, start)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts INTEGER NOT NULL, body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS fetch_jobs (
    id TEXT PRIMARY KEY, created INTEGER NOT NULL, body TEXT NOT NULL
);
";
