//! Ticker syntax, checked the same way everywhere symbols come in.

/// Upper-cases and checks a ticker: 1 to 24 of `A-Z 0-9 . - :`, starting with
/// a letter or digit (the rule is [`marquee_shared::validate::symbol`], so a
/// symbol read from Kafka or a file is held to the same one). The error says
/// what is wrong in words.
pub fn normalize(raw: &str) -> Result<String, String> {
    let symbol = raw.trim().to_ascii_uppercase();
    match marquee_shared::validate::symbol(&symbol) {
        Ok(_) => Ok(symbol),
        Err(_) => Err(format!(
            "{} is not a symbol: use 1 to 24 letters, digits, '.', '-' or ':'",
            marquee_shared::validate::quoted(raw)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::normalize;

    #[test]
    fn symbols_are_upper_cased_and_checked() {
        assert_eq!(normalize("brk.b").ok().as_deref(), Some("BRK.B"));
        assert_eq!(normalize(" ibm ").ok().as_deref(), Some("IBM"));
        assert_eq!(normalize("binance:btcusdt").ok().as_deref(), Some("BINANCE:BTCUSDT"));
        for bad in ["", "-X", "A B", "A-VERY-LONG-SYMBOL-OF-25C", "IBM;DROP", "ÅB", "../etc", "EUR/USD"] {
            assert!(normalize(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            normalize("a b").err().as_deref(),
            Some("\"a b\" is not a symbol: use 1 to 24 letters, digits, '.', '-' or ':'")
        );
        let hostile = "X".repeat(10_000);
        let err = normalize(&hostile).expect_err("too long");
        assert!(err.starts_with(&format!("{:?} (and 9976 more characters) is not", "X".repeat(24))), "{err}");
    }
}
