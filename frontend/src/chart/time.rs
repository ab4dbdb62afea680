//! Time-axis labels in UTC, without a date library: the civil date comes
//! from days since the epoch by Howard Hinnant's `civil_from_days`.

const NANOS_PER_SECOND: i64 = 1_000_000_000;
const SECONDS_PER_DAY: i64 = 86_400;

/// How the time axis labels a bar's start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeFormat {
    /// `HH:MM`, UTC.
    #[default]
    Intraday,
    /// `YYYY-MM-DD`, UTC.
    Daily,
}

impl TimeFormat {
    /// The label of the instant `ns` nanoseconds since the epoch.
    pub fn format(self, ns: i64) -> String {
        let (date, seconds) = split_utc(ns);
        match self {
            Self::Intraday => format!("{:02}:{:02}", seconds / 3600, seconds % 3600 / 60),
            Self::Daily => format!("{:04}-{:02}-{:02}", date.0, date.1, date.2),
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS` in UTC; for tests and tooltips.
pub fn format_datetime(ns: i64) -> String {
    let ((y, m, d), s) = split_utc(ns);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", s / 3600, s % 3600 / 60, s % 60)
}

/// The civil date and the second of the day of an instant (floored, so
/// instants before 1970 land on the right day).
fn split_utc(ns: i64) -> ((i64, u32, u32), i64) {
    let seconds = ns.div_euclid(NANOS_PER_SECOND);
    let days = seconds.div_euclid(SECONDS_PER_DAY);
    (civil_from_days(days), seconds.rem_euclid(SECONDS_PER_DAY))
}

/// (year, month 1..=12, day 1..=31) of the day `days` after 1970-01-01, in
/// the proleptic Gregorian calendar.
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    // Shift the epoch to 0000-03-01 so leap days fall at the end of a year.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097); // [0, 146096]
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100); // [0, 365]
    let month_from_march = (5 * day_of_year + 2) / 153; // [0, 11]
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: i64 = 1_000_000_000;

    #[test]
    fn formats_known_instants() {
        assert_eq!(TimeFormat::Daily.format(0), "1970-01-01");
        assert_eq!(TimeFormat::Intraday.format(0), "00:00");
        let t = 1_763_900_000_000_000_000;
        assert_eq!(TimeFormat::Daily.format(t), "2025-11-23");
        assert_eq!(TimeFormat::Intraday.format(t), "12:13");
        assert_eq!(format_datetime(t), "2025-11-23 12:13:20");
        assert_eq!(format_datetime(951_782_400 * SECOND), "2000-02-29 00:00:00");
        assert_eq!(format_datetime(951_868_800 * SECOND), "2000-03-01 00:00:00");
        assert_eq!(format_datetime(1_709_164_800 * SECOND), "2024-02-29 00:00:00");
        assert_eq!(format_datetime(-1), "1969-12-31 23:59:59");
        assert_eq!(format_datetime(-60 * SECOND), "1969-12-31 23:59:00");
    }

    #[test]
    fn days_follow_each_other_for_three_centuries() {
        let month_length = |y: i64, m: u32| match m {
            2 if y % 4 == 0 && (y % 100 != 0 || y % 400 == 0) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        let mut previous = civil_from_days(-25_567); // 1900-01-01
        assert_eq!(previous, (1900, 1, 1));
        for days in -25_566..=47_481 {
            let (y, m, d) = civil_from_days(days);
            let (py, pm, pd) = previous;
            let expected = if pd < month_length(py, pm) {
                (py, pm, pd + 1)
            } else if pm < 12 {
                (py, pm + 1, 1)
            } else {
                (py + 1, 1, 1)
            };
            assert_eq!((y, m, d), expected, "day {days}");
            previous = (y, m, d);
        }
        assert_eq!(previous, (2099, 12, 31));
    }

    #[test]
    fn picks_the_format_from_the_bar_step() {}
}
