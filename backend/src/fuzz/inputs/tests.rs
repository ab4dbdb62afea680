use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

use super::*;

#[test]
fn edits_reach_every_kind_of_input_and_stay_bounded() {
    let seeds = Seeds::new(
        [("json", br#"{"a":[1,"x"],"b":{"c":true}}"#.to_vec()), ("text", b"a,b\n1,2\n".to_vec())],
        &["word"],
    );
    let strategy = cases(Arc::clone(&seeds));
    let mut runner = TestRunner::deterministic();
    let (mut edited, mut arbitrary, mut edge) = (0, 0, 0);
    for _ in 0..2_000 {
        let case = strategy.new_tree(&mut runner).expect("a case").current();
        assert!(case.bytes.len() <= MAX_INPUT + 70_000 * 4, "{} bytes", case.bytes.len());
        match &case.seed {
            Some(_) => edited += 1,
            None => arbitrary += 1,
        }
        edge += usize::from(case.bytes.windows(5).any(|w| w == b"1e308" || w == b"18446"));
        assert!(!case.bytes.windows(10).any(|w| w == b"fuzz-edge-"), "a placeholder was left: {case:?}");
    }
    assert!(
        edited > 1_000 && arbitrary > 100 && edge > 50,
        "{edited} edited, {arbitrary} arbitrary, {edge} with edge values"
    );
}

#[test]
fn json_lines_are_edited_value_by_value_and_stay_lines() {
    let lines = Json::read(b"{\"a\":1}\n{\"a\":2}").expect("JSON lines");
    assert!(matches!(lines, Json::Lines(_)));
    let mut value = lines.value().clone();
    *nth(&mut value, 4).expect("the second a") = Value::from(3);
    assert_eq!(lines.write(&value), "{\"a\":1}\n{\"a\":3}");
    assert!(Json::read(b"a,b\n1,2").is_none());
}

#[test]
fn nth_counts_in_document_order() {
    let mut value: Value = serde_json::from_str(r#"{"a":[1,2],"b":3}"#).expect("json");
    assert_eq!(count(&value), 5);
    assert_eq!(nth(&mut value, 3).cloned(), Some(Value::from(2)));
    assert_eq!(nth(&mut value, 4).cloned(), Some(Value::from(3)));
    assert_eq!(nth(&mut value, 5), None);
}
