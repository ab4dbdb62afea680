//! Validation of path and query parameters, with messages a user can act on.

use marquee_shared::validate::quoted;

use super::ApiError;

/// An upper-cased, checked ticker.
pub fn symbol(raw: &str) -> Result<String, ApiError> {
    crate::common::symbol::normalize(raw).map_err(|message| ApiError::bad_request("bad_symbol", message))
}

/// A `limit` between 1 and `max`, or `default` when absent.
pub fn limit(raw: Option<usize>, default: usize, max: usize) -> Result<usize, ApiError> {
    match raw {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => {
            Err(ApiError::bad_request("bad_limit", format!("limit must be between 1 and {max}, got {n}")))
        }
    }
}

/// A time bound: a date (`2024-05-01`, midnight UTC), an RFC 3339 time, or
/// nanoseconds since the epoch. Returns ns since the epoch.
pub fn time_bound(name: &str, raw: Option<&str>) -> Result<Option<i64>, ApiError> {
    let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else { return Ok(None) };
    match crate::common::time::parse_instant(raw) {
        Some(ns) => Ok(Some(ns)),
        None => Err(ApiError::bad_request(
            "bad_time",
            format!("{name}={} is not a date (2024-05-01), an RFC 3339 time or nanoseconds", quoted(raw)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_default_and_stay_in_range() {
        assert_eq!(limit(None, 50, 100).ok(), Some(50));
        assert_eq!(limit(Some(100), 50, 100).ok(), Some(100));
        assert!(limit(Some(0), 50, 100).is_err());
        assert!(limit(Some(101), 50, 100).is_err());
    }

    #[test]
    fn time_bounds_accept_dates_times_and_nanoseconds() {
        assert_eq!(time_bound("from", Some("1970-01-02")).ok(), Some(Some(86_400_000_000_000)));
        assert_eq!(time_bound("from", Some("1970-01-01T00:00:01Z")).ok(), Some(Some(1_000_000_000)));
        assert_eq!(time_bound("from", Some("42")).ok(), Some(Some(42)));
        assert_eq!(time_bound("from", None).ok(), Some(None));
        assert!(time_bound("from", Some("yesterday")).is_err());
    }
}
