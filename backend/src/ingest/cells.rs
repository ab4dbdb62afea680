//! Numbers as files and vendors write them (text), read into the values
//! [`marquee_shared::validate`] accepts. Errors quote the text as written,
//! so a person can find it: `close 1e400 is not a finite number`.

use marquee_shared::validate;

/// A cell as a finite number.
pub fn number(field: &'static str, text: &str) -> Result<f64, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(format!("{field} is empty"));
    }
    match text.parse::<f64>() {
        Ok(n) if n.is_finite() => Ok(n),
        Ok(_) => Err(format!("{field} {text} is not a finite number")),
        Err(_) => Err(format!("{field} {} is not a number", validate::quoted(text))),
    }
}

/// A cell as a price (see [`validate::price`]).
pub fn price(field: &'static str, text: &str) -> Result<f64, String> {
    validate::price(field, number(field, text)?).map_err(|invalid| invalid.to_string())
}

/// A cell as a volume: a whole number, written plainly or as `2e2`, `100.0`
/// (see [`validate::volume_from_f64`]).
pub fn volume(field: &'static str, text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(v) => validate::volume(field, v),
        Err(_) => validate::volume_from_f64(field, number(field, text)?),
    }
    .map_err(|invalid| invalid.to_string())
}

/// A UTF-8 byte-order mark, which Windows tools put in front of text files;
/// it is not data.
pub fn without_byte_order_mark(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_read_as_written_or_refused_in_their_words() {
        assert_eq!(number("open", " 10.5 "), Ok(10.5));
        assert_eq!(number("open", ""), Err("open is empty".into()));
        assert_eq!(number("open", "1e400"), Err("open 1e400 is not a finite number".into()));
        assert_eq!(number("open", "abc"), Err("open \"abc\" is not a number".into()));
        assert_eq!(price("close", "1e308"), Err("close 1e308 is above the ceiling 1e9".into()));
        assert_eq!(volume("volume", "2e2"), Ok(200));
        assert_eq!(
            volume("volume", "18446744073709551615").map_err(|e| e.contains("ceiling 1e12")),
            Err(true)
        );
        assert_eq!(without_byte_order_mark("\u{feff}{}"), "{}");
    }
}
