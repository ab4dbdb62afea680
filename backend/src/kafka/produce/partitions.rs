//! Which partition a symbol's ticks go to, and the records a batch of ticks
//! becomes: one per partition (at most `--kafka-record-ticks` each), so a
//! driver step over 22 symbols is 3 records on 3 partitions, not 22.
//!
//! A symbol always maps to the same partition: the one the Kafka Java
//! client's default partitioner gives a record keyed by the symbol (murmur2
//! of the name, modulo the partition count read when the producer starts),
//! so other clients can find a symbol's ticks. A record keeps
//! the ticks in the order they came, so each symbol's ticks reach its
//! partition in seq order. Partitions added later are used from the next
//! start of the driver; until then the mapping, and so the order, holds.

use marquee_shared::Tick;

/// The partitions of the ticks topic, and the ticks a record takes.
#[derive(Debug, Clone, Copy)]
pub struct Partitions {
    count: u32,
    record_ticks: usize,
}

impl Partitions {
    /// `None` for a topic without partitions.
    pub fn new(count: usize, record_ticks: usize) -> Option<Self> {
        let count = u32::try_from(count).ok().filter(|&n| n > 0 && n <= i32::MAX as u32)?;
        Some(Self { count, record_ticks: record_ticks.max(1) })
    }

    /// The partition of `symbol`'s ticks.
    pub fn of(self, symbol: &str) -> i32 {
        // Below `count`, which fits an i32.
        ((murmur2(symbol.as_bytes()) & 0x7fff_ffff) % self.count) as i32
    }

    /// `ticks` as records: per partition, in the order they came, at most
    /// `record_ticks` each; partitions in ascending order.
    pub fn records(self, ticks: Vec<Tick>) -> Vec<(i32, Vec<Tick>)> {
        let mut by_partition: Vec<Vec<Tick>> = vec![Vec::new(); self.count as usize];
        for tick in ticks {
            by_partition[self.of(&tick.symbol) as usize].push(tick);
        }
        let mut records = Vec::new();
        for (partition, mut ticks) in by_partition.into_iter().enumerate() {
            while !ticks.is_empty() {
                let rest = ticks.split_off(ticks.len().min(self.record_ticks));
                records.push((partition as i32, std::mem::replace(&mut ticks, rest)));
            }
        }
        records
    }
}

/// Kafka's murmur2 (`org.apache.kafka.common.utils.Utils.murmur2`).
fn murmur2(data: &[u8]) -> u32 {
    const M: u32 = 0x5bd1_e995;
    const SEED: u32 = 0x9747_b28c;
    // Kafka hashes the length as a Java int; a longer symbol is refused
    // long before (symbols are at most a few dozen bytes).
    let mut hash = SEED ^ data.len() as u32;
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]).wrapping_mul(M);
        k ^= k >> 24;
        hash = hash.wrapping_mul(M) ^ k.wrapping_mul(M);
    }
    let rest = chunks.remainder();
    if rest.len() == 3 {
        hash ^= u32::from(rest[2]) << 16;
    }
    if rest.len() >= 2 {
        hash ^= u32::from(rest[1]) << 8;
    }
    if let Some(&first) = rest.first() {
        hash = (hash ^ u32::from(first)).wrapping_mul(M);
    }
    hash ^= hash >> 13;
    hash = hash.wrapping_mul(M);
    hash ^ (hash >> 15)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tick(symbol: &str, seq: u64) -> Tick {
        Tick { symbol: symbol.into(), seq, ts: 1, price: 1.0, size: 1.0, change: 0.0, change_pct: 0.0 }
    }

    #[test]
    fn a_symbol_keeps_its_partition_and_its_order() {
        let partitions = Partitions::new(3, 256).expect("partitions");
        let symbols = ["AAPL", "MSFT", "BTC-USD", "BINANCE:BTCUSDT", "A", ""];
        let ticks: Vec<Tick> = (1..=300).flat_map(|seq| symbols.map(|s| tick(s, seq))).collect();
        let records = partitions.records(ticks);
        assert!(records.iter().all(|(_, ticks)| !ticks.is_empty() && ticks.len() <= 256));
        assert!(records.windows(2).all(|w| w[0].0 <= w[1].0), "partitions ascending");
        for symbol in symbols {
            let placed: Vec<(i32, u64)> = records
                .iter()
                .flat_map(|(p, ticks)| ticks.iter().filter(|t| t.symbol == symbol).map(move |t| (*p, t.seq)))
                .collect();
            assert_eq!(placed.len(), 300, "{symbol}: every tick once");
            assert!(placed.iter().all(|&(p, _)| p == partitions.of(symbol)), "{symbol}: one partition");
            assert!(placed.windows(2).all(|w| w[0].1 < w[1].1), "{symbol}: in seq order");
        }
    }

    #[test]
    fn murmur2_is_kafkas() {
        // Kafka's own test vectors (UtilsTest.testMurmur2), as Java ints.
        let cases = [
            ("21", -973_932_308),
            ("foobar", -790_332_482),
            ("a-little-bit-long-string", -985_981_536),
            ("a-little-bit-longer-string", -1_486_304_829),
            ("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58_897_971),
            ("abc", 479_470_107),
        ];
        for (data, java) in cases {
            assert_eq!(murmur2(data.as_bytes()) as i32, java, "{data}");
        }
    }

    #[test]
    fn the_mapping_is_stable_and_spreads() {
        // Fixed values: a driver after an upgrade must map as before.
        let partitions = Partitions::new(3, 256).expect("partitions");
        assert_eq!(["AAPL", "MSFT", "NVDA", "BTC-USD"].map(|s| partitions.of(s)), [0, 0, 2, 0]);
        let used: std::collections::BTreeSet<i32> =
            marquee_universe().iter().map(|s| partitions.of(s)).collect();
        assert_eq!(used.len(), 3, "the demo universe spreads over every partition");
        assert!(Partitions::new(0, 256).is_none());
        assert_eq!(Partitions::new(1, 256).expect("one").of("ANY"), 0);
    }

    #[test]
    fn one_tick_a_record_when_asked() {
        let partitions = Partitions::new(3, 1).expect("partitions");
        let ticks: Vec<Tick> = (1..=5).flat_map(|seq| [tick("AAPL", seq), tick("NVDA", seq)]).collect();
        let records = partitions.records(ticks);
        assert_eq!(records.len(), 10);
        assert!(records.iter().all(|(p, ticks)| ticks.len() == 1 && *p == partitions.of(&ticks[0].symbol)));
    }

    fn marquee_universe() -> Vec<&'static str> {
        crate::sources::demo_universe::SYMBOLS.iter().map(|s| s.ticker).collect()
    }
}
