//! CSV import of daily bars: `date,open,high,low,close,volume`, with or
//! without a header row (a header may order the columns any way). The whole
//! file is checked before anything is stored, so a bad row never leaves a
//! half-imported file behind.

use jiff::civil::Date;
use jiff::tz::TimeZone;
use marquee_shared::{Bar, DataSource};

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
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut order: [usize; 6] = [0, 1, 2, 3, 4, 5];
    let mut bars = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        let line = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(err) => return Err(CsvError::Row { line, message: err.to_string() }),
        }
        progress(reader.position().byte());
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
        bars.push(row(&record, &order, symbol).map_err(|message| CsvError::Row { line, message })?);
    }
    if bars.is_empty() {
        return Err(CsvError::Empty);
    }
    bars.sort_by_key(|b| b.ts);
    if let Some(pair) = bars.windows(2).find(|w| w[0].ts == w[1].ts) {
        return Err(CsvError::Row {
            line: 0,
            message: format!("the date of bar {} appears twice", pair[0].ts),
        });
    }
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
    let price = |i: usize| -> Result<f64, String> {
        let text = cell(i)?;
        match text.parse::<f64>() {
            Ok(p) if p.is_finite() && p > 0.0 => Ok(p),
            _ => Err(format!("{} {text:?} is not a positive number", COLUMNS[i])),
        }
    };
    let date_text = cell(0)?;
    let date: Date = date_text.parse().map_err(|_| format!("date {date_text:?} is not YYYY-MM-DD"))?;
    let ts = date
        .to_zoned(TimeZone::UTC)
        .ok()
        .and_then(|z| i64::try_from(z.timestamp().as_nanosecond()).ok())
        .ok_or_else(|| format!("date {date_text:?} is out of range"))?;
    let (open, high, low, close) = (price(1)?, price(2)?, price(3)?, price(4)?);
    let volume_text = cell(5)?;
    let volume = volume_text
        .parse::<u64>()
        .or_else(|_| {
            volume_text
                .parse::<f64>()
                .ok()
                // Below 2^64: `as` would quietly turn 1e30 into u64::MAX.
                .filter(|v| v.fract() == 0.0 && *v >= 0.0 && *v < 18_446_744_073_709_551_616.0)
                .map(|v| v as u64)
                .ok_or(())
        })
        .map_err(|()| format!("volume {volume_text:?} is not a whole number"))?;
    if !(low <= open.min(close) && high >= open.max(close)) {
        return Err(format!("low {low} and high {high} do not contain open {open} and close {close}"));
    }
    Ok(Bar { symbol: symbol.to_owned(), ts, open, high, low, close, volume, source: DataSource::Csv })
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
            Err(CsvError::Row { line: 3, message: "high \"abc\" is not a positive number".into() })
        );
        let bad_date = parse_all("2024-13-01,10,11,9,10.5,100\n");
        assert!(matches!(bad_date, Err(CsvError::Row { line: 1, .. })), "{bad_date:?}");
        let inconsistent = parse_all("2024-05-01,10,9,8,10.5,100\n");
        assert!(
            matches!(inconsistent, Err(CsvError::Row { line: 1, message }) if message.contains("do not contain"))
        );
        let short = parse_all("2024-05-01,10,11\n");
        assert!(matches!(short, Err(CsvError::Row { line: 1, .. })));
        let twice = parse_all("2024-05-01,10,11,9,10.5,100\n2024-05-01,10,11,9,10.5,100\n");
        assert!(matches!(twice, Err(CsvError::Row { .. })));
    }

    /// Seen writing the fuzz target (`fuzz::csv::import`): a volume too
    /// large for a count was stored as u64::MAX.
    #[test]
    fn a_volume_beyond_a_count_is_refused() {
        let huge = parse_all("2024-05-01,10,11,9,10.5,1e30\n");
        assert!(
            matches!(&huge, Err(CsvError::Row { line: 1, message }) if message.contains("whole number")),
            "{huge:?}"
        );
        let largest =
            parse_all("2024-05-01,10,11,9,10.5,18446744073709551615\n").expect("u64::MAX is a count");
        assert_eq!(largest[0].volume, u64::MAX);
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
