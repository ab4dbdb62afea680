//! CSV import of daily bars: `date,open,high,low,close,volume`, with or
//! without a header row (a header may order the columns any way). The whole
//! file is checked before anything is stored, so a bad row never leaves a
//! half-imported file behind. Every value is held to
//! [`marquee_shared::validate`]'s limits (a close of 1e308 is refused, with
//! its line); a byte-order mark and CRLF line ends are normal and accepted.

use std::collections::HashMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use marquee_shared::{Bar, DataSource, Validate, validate};

use super::cells;

/// Why a CSV file was refused. Line numbers count from 1, header included.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CsvError {
    #[error("line {line}: {message}")]
    Row { line: u64, message: String },
    #[error("the header has no {0:?} column (need date, open, high, low, close, volume)")]
    MissingColumn(&'static str),
    #[error("the file has no data rows")]
    Empty,
}

const COLUMNS: [&str; 6] = ["date", "open", "high", "low", "close", "volume"];

/// Parses the whole file into bars for `symbol`, oldest first. `progress` is
/// called with the bytes read so far, for progress bars.
pub fn parse(text: &str, symbol: &str, mut progress: impl FnMut(u64)) -> Result<Vec<Bar>, CsvError> {
    let data = cells::without_byte_order_mark(text);
    let skipped = text.len() - data.len();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(data.as_bytes());
    let mut order: [usize; 6] = [0, 1, 2, 3, 4, 5];
    let mut bars = Vec::new();
    // The line each date was first seen on, to name both lines of a repeat.
    let mut dates: HashMap<i64, u64> = HashMap::new();
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(err) => return Err(CsvError::Row { line, message: err.to_string() }),
        }
        progress(reader.position().byte() + skipped as u64);
        if record.iter().all(str::is_empty) {
            continue;
        }
        if first {
            first = false;
            let cell = record.get(0).unwrap_or_default();
            if cell.parse::<Date>().is_err() && cell.chars().any(|c| c.is_ascii_alphabetic()) {
                order = header_order(&record)?;
                continue;
            }
        }
        let bar = row(&record, &order, symbol).map_err(|message| CsvError::Row { line, message })?;
        if let Some(earlier) = dates.insert(bar.ts, line) {
            let date = record.get(order[0]).unwrap_or_default();
            return Err(CsvError::Row {
                line,
                message: format!("date {date} appears twice (also on line {earlier}): keep one row per day"),
            });
        }
        bars.push(bar);
    }
    // The reader stops short of a final CRLF's line feed; the file is read.
    progress(text.len() as u64);
    if bars.is_empty() {
        return Err(CsvError::Empty);
    }
    bars.sort_by_key(|b| b.ts);
    Ok(bars)
}

fn header_order(header: &csv::StringRecord) -> Result<[usize; 6], CsvError> {
    let names: Vec<String> = header.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
    let mut order = [0; 6];
    for (slot, column) in order.iter_mut().zip(COLUMNS) {
        *slot = names
            .iter()
            .position(|n| n == column || (column == "date" && (n == "timestamp" || n == "day")))
            .ok_or(CsvError::MissingColumn(column))?;
    }
    Ok(order)
}

fn row(record: &csv::StringRecord, order: &[usize; 6], symbol: &str) -> Result<Bar, String> {
    let cell = |i: usize| record.get(order[i]).ok_or_else(|| format!("missing the {} column", COLUMNS[i]));
    let date_text = cell(0)?;
    let date: Date = date_text.parse().map_err(|_| format!("date {date_text:?} is not YYYY-MM-DD"))?;
    let ts = date
        .to_zoned(TimeZone::UTC)
        .ok()
        .and_then(|z| i64::try_from(z.timestamp().as_nanosecond()).ok())
        .and_then(|ts| validate::timestamp("date", ts).ok())
        .ok_or_else(|| format!("date {date_text} is out of range (accepted: 1970-01-01 to 2199-12-31)"))?;
    let open = cells::number("open", cell(1)?)?;
    let high = cells::number("high", cell(2)?)?;
    let low = cells::number("low", cell(3)?)?;
    let close = cells::number("close", cell(4)?)?;
    let volume = cells::volume("volume", cell(5)?)?;
    let bar = Bar { symbol: symbol.to_owned(), ts, open, high, low, close, volume, source: DataSource::Csv };
    bar.validate().map_err(|invalid| invalid.to_string())?;
    Ok(bar)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(text: &str) -> Result<Vec<Bar>, CsvError> {
        parse(text, "ACME", |_| {})
    }

    #[test]
    fn with_a_header_in_any_order() {
        let text =
            "Date,Volume,Open,High,Low,Close\n2024-05-02,200,11,12,10,11.5\n2024-05-01,100,10,11,9,10.5\n";
        let bars = parse_all(text).expect("valid");
        assert_eq!(bars.len(), 2);
        assert_eq!((bars[0].open, bars[0].close, bars[0].volume), (10.0, 10.5, 100));
        assert!(
            bars[0].ts < bars[1].ts && bars.iter().all(|b| b.source == DataSource::Csv && b.symbol == "ACME")
        );
    }

    #[test]
    fn without_a_header_in_the_standard_order() {
        let bars =
            parse_all("2024-05-01, 10, 11, 9, 10.5, 100\n\n2024-05-02,11,12,10,11.5,2e2\n").expect("valid");
        assert_eq!(bars.iter().map(|b| b.volume).collect::<Vec<_>>(), [100, 200]);
    }

    #[test]
    fn a_bad_row_is_reported_with_its_line_number() {
        let text =
            "date,open,high,low,close,volume\n2024-05-01,10,11,9,10.5,100\n2024-05-02,11,abc,10,11.5,200\n";
        assert_eq!(
            parse_all(text),
            Err(CsvError::Row { line: 3, message: "high \"abc\" is not a number".into() })
        );
        let bad_date = parse_all("2024-13-01,10,11,9,10.5,100\n");
        assert!(matches!(bad_date, Err(CsvError::Row { line: 1, .. })), "{bad_date:?}");
        let inconsistent = parse_all("2024-05-01,10,9,8,10.5,100\n");
        assert!(
            matches!(inconsistent, Err(CsvError::Row { line: 1, message }) if message.contains("outside the bar's range"))
        );
        let short = parse_all("2024-05-01,10,11\n");
        assert!(matches!(short, Err(CsvError::Row { line: 1, .. })));
        let twice = parse_all("2024-05-01,10,11,9,10.5,100\n2024-05-01,10,11,9,10.5,100\n");
        assert!(matches!(twice, Err(CsvError::Row { .. })));
    }

    /// Hostile and damaged files: each is refused with a message naming the
    /// line, the field, the value and what is allowed.
    #[test]
    fn malformed_input_gets_a_clear_error() {
        const HEADER: &str = "date,open,high,low,close,volume\n";
        let cases = [
            ("2024-05-01,10,11,9,1e308,100", "line 2: close 1e308 is above the ceiling 1e9"),
            ("2024-05-01,10,11,9,1e400,100", "line 2: close 1e400 is not a finite number"),
            ("2024-05-01,10,11,9,-5,100", "line 2: close -5 is not a positive price (allowed: 1e-8 to 1e9)"),
            ("2024-05-01,10,11,9,NaN,100", "line 2: close NaN is not a finite number"),
            ("2024-05-01,10,11,9,abc,100", "line 2: close \"abc\" is not a number"),
            ("2024-05-01,10,11,9,,100", "line 2: close is empty"),
            ("2024-05-01,10,9,11,10,100", "line 2: high 9 is below low 11"),
            ("2024-05-01,10,11,9,10,1e30", "line 2: volume 1e30 is above the ceiling 1e12"),
            (
                "2024-05-01,10,11,9,10,-5",
                "line 2: volume -5 is negative (allowed: whole numbers from 0 to 1e12)",
            ),
            (
                "2024-05-01,10,11,9,10,1.5",
                "line 2: volume 1.5 is not a whole number (allowed: whole numbers from 0 to 1e12)",
            ),
            (
                "1969-12-31,10,11,9,10,100",
                "line 2: date 1969-12-31 is out of range (accepted: 1970-01-01 to 2199-12-31)",
            ),
            (
                "2024-05-01,10,11,9,10.5,100\n2024-05-02,10,11,9,10.5,100\n2024-05-01,1,2,1,1,1",
                "line 4: date 2024-05-01 appears twice (also on line 2): keep one row per day",
            ),
        ];
        for (rows, expected) in cases {
            let refused = parse_all(&format!("{HEADER}{rows}\n")).map_err(|e| e.to_string());
            assert_eq!(refused, Err(expected.to_owned()), "{rows}");
        }
        assert_eq!(parse_all("").map_err(|e| e.to_string()), Err("the file has no data rows".into()));
    }

    /// A byte-order mark and Windows line ends are how spreadsheets save
    /// CSV: the same bars as a plain file.
    #[test]
    fn a_byte_order_mark_and_crlf_are_accepted() {
        let plain =
            "date,open,high,low,close,volume\n2024-05-01,10,11,9,10.5,100\n2024-05-02,11,12,10,11.5,200\n";
        let expected = parse_all(plain).expect("plain");
        let windows = format!("\u{feff}{}", plain.replace('\n', "\r\n"));
        assert_eq!(parse_all(&windows), Ok(expected.clone()));
        assert_eq!(parse_all(&format!("\u{feff}{}", &plain[32..])), Ok(expected), "no header");
        let mut last = 0;
        parse(&windows, "ACME", |bytes| last = bytes).expect("valid");
        assert_eq!(last, windows.len() as u64, "progress counts the mark");
    }

    #[test]
    fn headers_and_empty_files_are_checked() {
        assert_eq!(parse_all("date,open,high,low,close\n"), Err(CsvError::MissingColumn("volume")));
        assert_eq!(parse_all(""), Err(CsvError::Empty));
        assert_eq!(parse_all("date,open,high,low,close,volume\n"), Err(CsvError::Empty));
    }

    #[test]
    fn progress_reaches_the_end_of_the_file() {
        let text = "2024-05-01,10,11,9,10.5,100\n2024-05-02,11,12,10,11.5,200\n";
        let mut last = 0;
        parse(text, "X", |bytes| last = bytes).expect("valid");
        assert_eq!(last, text.len() as u64);
    }
}
