//! CSV import: a file is refused whole, or every bar in it is valid, in
//! date order, and reads back the same when written out again.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use marquee_shared::{Bar, DataSource};

use super::{Seeds, fuzz, inputs::cases};
use crate::ingest::csv_import;

fn csv_file(bytes: &[u8]) {
    // The import endpoint refuses a body that is not UTF-8 before parsing.
    let text = String::from_utf8_lossy(bytes);
    let mut read = Vec::new();
    let parsed = csv_import::parse(&text, "ACME", |bytes| read.push(bytes));
    assert!(read.windows(2).all(|w| w[0] <= w[1]), "progress went back: {read:?}");
    assert!(read.last().is_none_or(|&last| last <= text.len() as u64), "progress past the end: {read:?}");
    let Ok(bars) = parsed else { return };
    assert!(!bars.is_empty());
    for pair in bars.windows(2) {
        assert!(pair[0].ts < pair[1].ts, "bars out of order or twice at one date: {pair:?}");
    }
    for bar in &bars {
        let prices = [bar.open, bar.high, bar.low, bar.close];
        assert!(prices.iter().all(|p| p.is_finite() && *p > 0.0), "{bar:?}");
        assert!(bar.low <= bar.open.min(bar.close) && bar.high >= bar.open.max(bar.close), "{bar:?}");
        assert_eq!((bar.symbol.as_str(), bar.source), ("ACME", DataSource::Csv));
        assert_eq!(bar.ts.rem_euclid(86_400_000_000_000), 0, "a daily bar starts at midnight UTC: {bar:?}");
    }
    let written = write(&bars);
    assert_eq!(
        csv_import::parse(&written, "ACME", |_| {}).as_ref(),
        Ok(&bars),
        "written back as {written:?}"
    );
}

/// Bars as a CSV file with a header, as an export would write them.
fn write(bars: &[Bar]) -> String {
    let mut text = String::from("date,open,high,low,close,volume\n");
    for bar in bars {
        let date = Timestamp::from_nanosecond(i128::from(bar.ts)).map(|t| t.to_zoned(TimeZone::UTC).date());
        let date = date.map_or_else(|err| format!("bad ts {}: {err}", bar.ts), |d| d.to_string());
        text.push_str(&format!(
            "{date},{},{},{},{},{}\n",
            bar.open, bar.high, bar.low, bar.close, bar.volume
        ));
    }
    text
}

#[test]
fn import() {
    let rows: String = (1..=28)
        .map(|day| format!("2024-02-{day:02},{0}.5,{1},{0},{0}.75,{2}\n", 100 + day, 102 + day, day * 1000))
        .collect();
    let seeds = Seeds::new(
        [
            ("header", b"date,open,high,low,close,volume\n2024-05-01,10,11,9,10.5,100\n2024-05-02,11,12,10,11.5,200\n".to_vec()),
            ("header in another order", b"Date,Volume,Open,High,Low,Close\n2024-05-02,200,11,12,10,11.5\n2024-05-01,100,10,11,9,10.5\n".to_vec()),
            ("no header", b"2024-05-01, 10, 11, 9, 10.5, 100\n\n2024-05-02,11,12,10,11.5,2e2\n".to_vec()),
            ("quoted, CRLF", b"\"timestamp\",\"open\",\"high\",\"low\",\"close\",\"volume\"\r\n\"2024-05-01\",\"10\",\"11\",\"9\",\"10.5\",\"100\"\r\n".to_vec()),
            ("a month", rows.into_bytes()),
        ],
        &["date", "open", "high", "low", "close", "volume", "day", "2024-05-01", "1e19", "2e2"],
    );
    fuzz("csv::import", cases(seeds), csv_file);
}
