//! The gateway's edge figures (`metrics.edge`) as the pipeline panel shows
//! them. Pure; tested natively.

use std::collections::BTreeMap;

use marquee_shared::Instance;

/// The instance whose gateway card shows `metrics.edge`. The figures are
/// those of the process that sent the metrics, which serves this page: the
/// only instance running a gateway, or the one whose address is the page's
/// origin. `None` when neither says which (the figures are then shown on
/// no card rather than on the wrong one).
pub fn owner<'a>(instances: &'a [Instance], page_origin: &str) -> Option<&'a str> {
    let gateways: Vec<&Instance> =
        instances.iter().filter(|i| i.stages.iter().any(|s| s.name == "gateway")).collect();
    match gateways.as_slice() {
        [only] => Some(only.id.as_str()),
        several => several.iter().find(|i| same_origin(&i.address, page_origin)).map(|i| i.id.as_str()),
    }
}

fn same_origin(address: &str, origin: &str) -> bool {
    let trim = |s: &str| s.trim().trim_end_matches('/').to_ascii_lowercase();
    !origin.is_empty() && trim(address) == trim(origin)
}

/// Counts by reason, most frequent first, e.g. `stalled 2 · too large 1`;
/// `none` when nothing happened.
pub fn by_reason(counts: &BTreeMap<String, u64>) -> String {
    let mut counts: Vec<(&String, &u64)> = counts.iter().filter(|(_, n)| **n > 0).collect();
    if counts.is_empty() {
        return "none".to_owned();
    }
    counts.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    counts
        .iter()
        .map(|(reason, n)| format!("{} {n}", reason.replace('_', " ")))
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use marquee_shared::{StageHealth, Status};

    use super::*;

    fn instance(id: &str, address: &str, stages: &[&str]) -> Instance {
        Instance {
            id: id.into(),
            roles: vec![],
            address: address.into(),
            status: Status::Up,
            seen: 0,
            uptime_ms: 0,
            stages: stages.iter().map(|name| StageHealth::new(*name, Status::Up)).collect(),
            dependencies: vec![],
        }
    }

    #[test]
    fn the_only_gateway_owns_the_figures() {
        let instances = [instance("a", "http://10.0.0.1:8080", &["driver"]), instance("b", "", &["gateway"])];
        assert_eq!(owner(&instances, "http://127.0.0.1:1"), Some("b"));
        assert_eq!(owner(&instances[..1], "http://127.0.0.1:1"), None, "no gateway, no card");
    }

    #[test]
    fn among_several_gateways_the_one_serving_the_page_owns_them() {
        let instances = [
            instance("a", "http://127.0.0.1:8081", &["gateway"]),
            instance("b", "http://127.0.0.1:8082/", &["receiver", "gateway"]),
        ];
        assert_eq!(owner(&instances, "http://127.0.0.1:8082"), Some("b"));
        assert_eq!(owner(&instances, "http://127.0.0.1:9999"), None);
        assert_eq!(owner(&instances, ""), None);
    }

    #[test]
    fn reasons_read_most_frequent_first() {
        let counts = BTreeMap::from([
            ("client_closed".to_owned(), 3),
            ("stalled".to_owned(), 1),
            ("too_large".to_owned(), 3),
            ("protocol_error".to_owned(), 0),
        ]);
        assert_eq!(by_reason(&counts), "client closed 3 · too large 3 · stalled 1");
        assert_eq!(by_reason(&BTreeMap::new()), "none");
    }
}
