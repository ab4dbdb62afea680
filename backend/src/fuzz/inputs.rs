//! What the targets are fed: arbitrary bytes, and real inputs (seeds: the
//! fixtures, valid messages) mutated byte by byte (flips, truncation,
//! splicing, repeats, dictionary tokens) or, for JSON, value by value (a
//! number or string swapped for an edge value, a key renamed or dropped,
//! deep nesting).
//!
//! A case is generated from a small recipe (which seed, which edits at
//! which positions), not from the bytes themselves: generating stays cheap
//! whatever the seed's size, and shrinking drops edits until the fewest that
//! still fail remain.

use std::fmt;
use std::sync::Arc;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::Value;

/// Inputs grow no larger than this, whatever the edits.
const MAX_INPUT: usize = 256 * 1024;

/// One real input a target reads.
#[derive(Debug)]
struct Seed {
    name: String,
    bytes: Vec<u8>,
    /// The seed as JSON, when it is JSON (for value-level edits).
    json: Option<Json>,
}

/// A JSON document, or JSON lines (one value per line, as a batch of
/// Kafka payloads) held as an array of them.
#[derive(Debug)]
enum Json {
    Document(Value),
    Lines(Value),
}

impl Json {
    fn read(bytes: &[u8]) -> Option<Json> {
        if let Ok(value) = serde_json::from_slice(bytes) {
            return Some(Json::Document(value));
        }
        let lines: Result<Vec<Value>, _> = bytes.split(|&b| b == b'\n').map(serde_json::from_slice).collect();
        lines.ok().filter(|lines| lines.len() > 1).map(|lines| Json::Lines(Value::Array(lines)))
    }

    fn value(&self) -> &Value {
        match self {
            Json::Document(value) | Json::Lines(value) => value,
        }
    }

    /// `value`, an edited copy of this seed's, written the way the seed was.
    fn write(&self, value: &Value) -> String {
        match (self, value) {
            (Json::Lines(_), Value::Array(lines)) => {
                lines.iter().map(Value::to_string).collect::<Vec<_>>().join("\n")
            }
            _ => value.to_string(),
        }
    }
}

/// A target's seeds and the dictionary its edits draw on.
#[derive(Debug)]
pub struct Seeds {
    seeds: Vec<Seed>,
    /// JSON text fragments a value may be replaced by.
    edges: Vec<String>,
    /// Byte strings an edit may insert.
    tokens: Vec<Vec<u8>>,
}

impl Seeds {
    /// Seeds by name; the target's own `words` join the dictionary.
    pub fn new<N: Into<String>>(seeds: impl IntoIterator<Item = (N, Vec<u8>)>, words: &[&str]) -> Arc<Self> {
        let seeds: Vec<Seed> = seeds
            .into_iter()
            .map(|(name, bytes)| Seed { name: name.into(), json: Json::read(&bytes), bytes })
            .collect();
        assert!(!seeds.is_empty(), "a target needs a seed");
        let strings = EDGE_STRINGS.iter().chain(words).map(|s| Value::String((*s).to_owned()).to_string());
        let long = [
            Value::String("x".repeat(70_000)).to_string(),
            format!("{}1{}", "[".repeat(200), "]".repeat(200)),
            format!("{}{}", "{\"a\":".repeat(130), "}".repeat(130).replacen('}', "1}", 1)),
        ];
        let mut edges: Vec<String> = EDGE_NUMBERS.iter().map(|s| (*s).to_owned()).collect();
        edges.extend(strings);
        edges.extend(["null", "true", "false", "[]", "{}", "[null]", "{\"\":null}"].map(str::to_owned));
        edges.extend(long);
        let mut tokens: Vec<Vec<u8>> = TOKENS.iter().map(|t| t.to_vec()).collect();
        tokens.extend(EDGE_NUMBERS.iter().chain(EDGE_STRINGS).chain(words).map(|s| s.as_bytes().to_vec()));
        Arc::new(Self { seeds, edges, tokens })
    }
}

/// A byte-level edit. Positions are [`Index`]es, scaled to the input's length.
#[derive(Debug, Clone)]
pub enum Edit {
    Flip {
        at: Index,
        bit: u8,
    },
    Set {
        at: Index,
        byte: u8,
    },
    Insert {
        at: Index,
        token: Index,
    },
    Delete {
        at: Index,
        len: usize,
    },
    Truncate {
        at: Index,
    },
    /// Copies a run of the input elsewhere in it.
    Copy {
        from: Index,
        len: usize,
        to: Index,
    },
    /// Copies a run of another seed into the input.
    Splice {
        seed: Index,
        from: Index,
        len: usize,
        to: Index,
    },
    /// Repeats a run many times: long strings, deep nesting.
    Repeat {
        at: Index,
        len: usize,
        times: usize,
    },
}

/// A value-level edit of a JSON seed. `node` counts values in document order.
#[derive(Debug, Clone)]
pub enum JsonEdit {
    Replace { node: Index, edge: Index },
    Remove { node: Index, child: Index },
    RenameKey { node: Index, child: Index, edge: Index },
    Nest { node: Index, depth: usize },
}

/// One input for a target, with how it was made.
#[derive(Clone)]
pub struct Case {
    pub bytes: Vec<u8>,
    seed: Option<String>,
    json_edits: Vec<JsonEdit>,
    edits: Vec<Edit>,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 2048;
        match &self.seed {
            Some(seed) => {
                write!(f, "seed {seed:?} with JSON edits {:?} and edits {:?}", self.json_edits, self.edits)?
            }
            None => write!(f, "arbitrary bytes")?,
        }
        let shown = &self.bytes[..self.bytes.len().min(SHOWN)];
        write!(f, "; {} bytes: b\"{}\"", self.bytes.len(), shown.escape_ascii())?;
        if self.bytes.len() > SHOWN { write!(f, "...") } else { Ok(()) }
    }
}

/// Arbitrary bytes, byte-edited seeds and (for JSON seeds) value-edited ones.
pub fn cases(seeds: Arc<Seeds>) -> BoxedStrategy<Case> {
    let arbitrary = vec(any::<u8>(), 0..512).prop_map(|bytes| Case {
        bytes,
        seed: None,
        json_edits: Vec::new(),
        edits: Vec::new(),
    });
    let by_bytes = {
        let seeds = Arc::clone(&seeds);
        (any::<Index>(), vec(edit(), 1..8))
            .prop_map(move |(seed, edits)| seeds.make(&seed, Vec::new(), edits))
    };
    if !seeds.seeds.iter().any(|s| s.json.is_some()) {
        return prop_oneof![1 => arbitrary, 4 => by_bytes].boxed();
    }
    let by_values = (any::<Index>(), vec(json_edit(), 1..4), vec(edit(), 0..2))
        .prop_map(move |(seed, json_edits, edits)| seeds.make(&seed, json_edits, edits));
    prop_oneof![1 => arbitrary, 3 => by_bytes, 4 => by_values].boxed()
}

fn edit() -> impl Strategy<Value = Edit> {
    let at = any::<Index>;
    // Mostly a few copies: long inputs find little more, and take long to parse.
    let times = prop_oneof![4 => 2_usize..64, 1 => 64_usize..5_000];
    prop_oneof![
        1 => (at(), 0_u8..8).prop_map(|(at, bit)| Edit::Flip { at, bit }),
        1 => (at(), any::<u8>()).prop_map(|(at, byte)| Edit::Set { at, byte }),
        3 => (at(), at()).prop_map(|(at, token)| Edit::Insert { at, token }),
        1 => (at(), 1_usize..64).prop_map(|(at, len)| Edit::Delete { at, len }),
        1 => at().prop_map(|at| Edit::Truncate { at }),
        1 => (at(), 1_usize..256, at()).prop_map(|(from, len, to)| Edit::Copy { from, len, to }),
        1 => (at(), at(), 1_usize..512, at()).prop_map(|(seed, from, len, to)| Edit::Splice { seed, from, len, to }),
        1 => (at(), 1_usize..16, times).prop_map(|(at, len, times)| Edit::Repeat { at, len, times }),
    ]
}

fn json_edit() -> impl Strategy<Value = JsonEdit> {
    let at = any::<Index>;
    prop_oneof![
        4 => (at(), at()).prop_map(|(node, edge)| JsonEdit::Replace { node, edge }),
        1 => (at(), at()).prop_map(|(node, child)| JsonEdit::Remove { node, child }),
        1 => (at(), at(), at()).prop_map(|(node, child, edge)| JsonEdit::RenameKey { node, child, edge }),
        1 => (at(), 1_usize..200).prop_map(|(node, depth)| JsonEdit::Nest { node, depth }),
    ]
}

/// A value no seed holds, standing for edge `k` until the text is written.
fn placeholder(k: usize) -> String {
    format!("\u{1}fuzz-edge-{k}\u{1}")
}

impl Seeds {
    fn make(&self, seed: &Index, json_edits: Vec<JsonEdit>, edits: Vec<Edit>) -> Case {
        let chosen = &self.seeds[seed.index(self.seeds.len())];
        let mut bytes = match (&chosen.json, json_edits.is_empty()) {
            (Some(json), false) => self.edit_json(json, &json_edits),
            _ => chosen.bytes.clone(),
        };
        for edit in &edits {
            self.apply(&mut bytes, edit);
            bytes.truncate(MAX_INPUT);
        }
        Case { bytes, seed: Some(chosen.name.clone()), json_edits, edits }
    }

    fn edit_json(&self, json: &Json, edits: &[JsonEdit]) -> Vec<u8> {
        let mut value = json.value().clone();
        let mut used = Vec::new();
        for edit in edits {
            let nodes = count(&value);
            match edit {
                JsonEdit::Replace { node, edge } => {
                    let k = edge.index(self.edges.len());
                    used.push(k);
                    if let Some(v) = nth(&mut value, node.index(nodes)) {
                        *v = Value::String(placeholder(k));
                    }
                }
                JsonEdit::Remove { node, child } => match nth(&mut value, node.index(nodes)) {
                    Some(Value::Object(map)) if !map.is_empty() => {
                        let key = map.keys().nth(child.index(map.len())).cloned().unwrap_or_default();
                        map.remove(&key);
                    }
                    Some(Value::Array(items)) if !items.is_empty() => {
                        items.remove(child.index(items.len()));
                    }
                    _ => {}
                },
                JsonEdit::RenameKey { node, child, edge } => {
                    if let Some(Value::Object(map)) = nth(&mut value, node.index(nodes))
                        && !map.is_empty()
                    {
                        let key = map.keys().nth(child.index(map.len())).cloned().unwrap_or_default();
                        let fragment = &self.edges[edge.index(self.edges.len())];
                        let renamed =
                            serde_json::from_str::<String>(fragment).unwrap_or_else(|_| fragment.clone());
                        if let Some(v) = map.remove(&key) {
                            map.insert(renamed, v);
                        }
                    }
                }
                JsonEdit::Nest { node, depth } => {
                    if let Some(v) = nth(&mut value, node.index(nodes)) {
                        for _ in 0..*depth {
                            *v = Value::Array(vec![v.take()]);
                        }
                    }
                }
            }
        }
        let mut text = json.write(&value);
        for k in used {
            let quoted = Value::String(placeholder(k)).to_string();
            text = text.replace(&quoted, &self.edges[k]);
        }
        text.into_bytes()
    }

    fn apply(&self, bytes: &mut Vec<u8>, edit: &Edit) {
        let len = bytes.len();
        // A position in the input, and a place to insert at (the end included).
        let byte = |at: &Index| (len > 0).then(|| at.index(len));
        let gap = |at: &Index| at.index(len + 1);
        match edit {
            Edit::Flip { at, bit } => {
                if let Some(i) = byte(at) {
                    bytes[i] ^= 1 << bit;
                }
            }
            Edit::Set { at, byte: value } => {
                if let Some(i) = byte(at) {
                    bytes[i] = *value;
                }
            }
            Edit::Insert { at, token } => {
                let token = &self.tokens[token.index(self.tokens.len())];
                let at = gap(at);
                bytes.splice(at..at, token.iter().copied());
            }
            Edit::Delete { at, len: n } => {
                let at = gap(at);
                bytes.drain(at..(at + n).min(len));
            }
            Edit::Truncate { at } => bytes.truncate(gap(at)),
            Edit::Copy { from, len: n, to } => {
                if let Some(from) = byte(from) {
                    let run = bytes[from..(from + n).min(len)].to_vec();
                    let to = gap(to);
                    bytes.splice(to..to, run);
                }
            }
            Edit::Splice { seed, from, len: n, to } => {
                let other = &self.seeds[seed.index(self.seeds.len())].bytes;
                if !other.is_empty() {
                    let from = from.index(other.len());
                    let to = gap(to);
                    bytes.splice(to..to, other[from..(from + n).min(other.len())].iter().copied());
                }
            }
            Edit::Repeat { at, len: n, times } => {
                if let Some(from) = byte(at) {
                    let run = bytes[from..(from + n).min(len)].to_vec();
                    let copies = (*times).min(MAX_INPUT / run.len().max(1));
                    bytes.splice(from..from, run.repeat(copies));
                }
            }
        }
    }
}

/// Values in `value`, itself included.
fn count(value: &Value) -> usize {
    1 + match value {
        Value::Array(items) => items.iter().map(count).sum(),
        Value::Object(map) => map.values().map(count).sum(),
        _ => 0,
    }
}

/// The `n`th value in document order (0: `value` itself).
fn nth(value: &mut Value, n: usize) -> Option<&mut Value> {
    fn walk<'a>(value: &'a mut Value, n: &mut usize) -> Option<&'a mut Value> {
        if *n == 0 {
            return Some(value);
        }
        *n -= 1;
        match value {
            Value::Array(items) => items.iter_mut().find_map(|item| walk(item, n)),
            Value::Object(map) => map.values_mut().find_map(|item| walk(item, n)),
            _ => None,
        }
    }
    walk(value, &mut { n })
}

mod dictionary;
#[cfg(test)]
mod tests;

use dictionary::{EDGE_NUMBERS, EDGE_STRINGS, TOKENS};
