//! Which addresses name this machine: the one rule behind the checks that
//! relax something only for a loopback peer (the gateway's `Host` check,
//! the Alpha Vantage plain-http warning, `--sns-verify false`).

use std::net::IpAddr;

/// `localhost`, or an IP literal in 127.0.0.0/8 or `::1` (also written as
/// an IPv4-mapped IPv6 address); IPv6 may keep its URL brackets.
pub fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let literal = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    literal.parse::<IpAddr>().is_ok_and(|ip| ip.to_canonical().is_loopback())
}

/// Whether `url` (`scheme://host[:port]/...`) names this machine; false for
/// anything that does not parse as a URL with a host.
pub fn is_loopback_url(url: &str) -> bool {
    reqwest::Url::parse(url).ok().as_ref().and_then(reqwest::Url::host_str).is_some_and(is_loopback_host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_are_localhost_127_slash_8_and_ipv6_one() {
        for host in ["localhost", "LocalHost", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "[::ffff:127.0.0.1]"]
        {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["", "example.com", "localhost.example.com", "10.0.0.1", "0.0.0.0", "[::]", "128.0.0.1"] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }

    #[test]
    fn loopback_urls_are_judged_by_their_host() {
        for url in ["http://127.0.0.1:4566", "https://localhost/x", "http://[::1]:9/", "http://LOCALHOST:1"] {
            assert!(is_loopback_url(url), "{url}");
        }
        for url in [
            "http://sns:5000",
            "https://sns.us-east-1.amazonaws.com",
            "http://127.0.0.1.evil.example/",
            "http://user@10.0.0.1/",
            "127.0.0.1:4566",
            "not a url",
        ] {
            assert!(!is_loopback_url(url), "{url}");
        }
    }
}
