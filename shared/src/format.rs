//! Numbers for people: the dashboard's figures and chart labels, and any
//! message the server writes for a person. One rule per kind of figure.

/// A price with two decimals and thousands separators: `1,234.50`.
pub fn price(value: f64) -> String {
    let fixed = format!("{:.2}", value.abs());
    let (whole, cents) = fixed.split_once('.').unwrap_or((&fixed, "00"));
    let mut grouped = String::with_capacity(whole.len() + whole.len() / 3);
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    let sign = if value < 0.0 && fixed != "0.00" { "-" } else { "" };
    format!("{sign}{grouped}.{cents}")
}

/// A signed change with two decimals: `+1.25`, `-0.40`; unsigned `0.00`
/// when it rounds to zero, so no sign contradicts the figure beside it.
pub fn change(value: f64) -> String {
    let text = format!("{value:+.2}");
    if text == "-0.00" || text == "+0.00" { "0.00".to_owned() } else { text }
}

/// A signed percentage with two decimals: `+0.52%`.
pub fn percent(value: f64) -> String {
    format!("{}%", change(value))
}

/// A volume, shortened: `950`, `12.3K`, `4.56M`; a fraction of a coin
/// with three significant digits: `0.0166`, `1.25`.
pub fn volume(value: f64) -> String {
    if value.abs() >= 1e3 || value.fract() == 0.0 || !value.is_finite() {
        return compact(value);
    }
    let digits = (2 - value.abs().log10().floor() as i32).clamp(0, 12) as usize;
    let text = format!("{value:.digits$}");
    if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text }
}

/// A count in five characters or so, three significant digits at most:
/// `950`, `12.3K`, `4.56M`, `4.5M`, `250M`, `1.2B`.
pub fn compact(value: f64) -> String {
    let (divisor, suffix) = match value.abs() {
        a if a >= 1e9 => (1e9, "B"),
        a if a >= 1e6 => (1e6, "M"),
        a if a >= 1e3 => (1e3, "K"),
        _ => return format!("{}", value.round()),
    };
    let scaled = value / divisor;
    let decimals = match scaled.abs() {
        a if a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        _ => 2,
    };
    let text = format!("{scaled:.decimals$}");
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.') } else { &text };
    format!("{text}{suffix}")
}

/// A count with thousands separators: `0`, `1,234`.
pub fn count(value: u64) -> String {
    price(value as f64).trim_end_matches(".00").to_owned()
}

/// Milliseconds with a precision that suits the size: `0.42 ms`, `12.3 ms`, `1,204 ms`.
pub fn millis(value: f64) -> String {
    if value < 1.0 {
        format!("{value:.2} ms")
    } else if value < 100.0 {
        format!("{value:.1} ms")
    } else {
        format!("{} ms", price(value.round()).trim_end_matches(".00"))
    }
}

/// A rate per second: `0/s`, `219/s`, `12.4K/s`.
pub fn rate(value: f64) -> String {
    if value < 10_000.0 { format!("{value:.0}/s") } else { format!("{:.1}K/s", value / 1e3) }
}

/// An arrow for the direction of a change.
pub fn arrow(value: f64) -> &'static str {
    if value >= 0.0 { "▲" } else { "▼" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_are_grouped_and_rounded() {
        assert_eq!(price(0.0), "0.00");
        assert_eq!(price(9.999), "10.00");
        assert_eq!(price(228.504), "228.50");
        assert_eq!(price(1234.5), "1,234.50");
        assert_eq!(price(1_234_567.891), "1,234,567.89");
        assert_eq!(price(-1234.5), "-1,234.50");
    }

    #[test]
    fn changes_are_signed_and_never_negative_zero() {
        assert_eq!(change(1.254), "+1.25");
        assert_eq!(change(-0.4), "-0.40");
        assert_eq!(change(-0.001), "0.00");
        assert_eq!(change(0.004), "0.00");
        assert_eq!(percent(0.523), "+0.52%");
        assert_eq!(percent(-0.0044), "0.00%");
        assert_eq!(arrow(-0.1), "▼");
        assert_eq!(arrow(0.0), "▲");
    }

    #[test]
    fn volumes_rates_and_latencies_read_well() {
        assert_eq!(volume(950.0), "950");
        assert_eq!(volume(12_345.0), "12.3K");
        assert_eq!(volume(4_560_000.0), "4.56M");
        assert_eq!(volume(0.01655371), "0.0166");
        assert_eq!(volume(1.25), "1.25");
        assert_eq!(volume(12.3456), "12.3");
        assert_eq!(volume(999.5), "1000", "rounds to three significant digits");
        assert_eq!(millis(0.4212), "0.42 ms");
        assert_eq!(millis(12.34), "12.3 ms");
        assert_eq!(millis(1_204.4), "1,204 ms");
        assert_eq!(rate(219.4), "219/s");
        assert_eq!(rate(12_400.0), "12.4K/s");
        assert_eq!(count(0), "0");
        assert_eq!(count(1_234_567), "1,234,567");
    }

    #[test]
    fn counts_are_compact() {
        assert_eq!(compact(950.0), "950");
        assert_eq!(compact(12_345.0), "12.3K");
        assert_eq!(compact(4_500_000.0), "4.5M");
        assert_eq!(compact(4_560_000.0), "4.56M");
        assert_eq!(compact(250_000_000.0), "250M");
        assert_eq!(compact(1.2e9), "1.2B");
        assert_eq!(compact(2_000.0), "2K");
        assert_eq!(compact(-12_345.0), "-12.3K");
    }
}
