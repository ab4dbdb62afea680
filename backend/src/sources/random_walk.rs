//! The price simulation as a pure, synchronous type: no clock, no runtime.
//!
//! Each symbol follows geometric Brownian motion,
//! `S(t+dt) = S(t) · exp((μ − σ²/2)·dt + σ·√dt·Z)` with `Z ~ N(0, 1)`,
//! so prices stay positive and returns are normally distributed. Trade sizes
//! are log-normal, like real prints: mostly small, occasionally large.
//!
//! Prices stay within [`validate`]'s range: a walk that would leave it (a
//! seed near the ceiling, a huge drift) is held at the limit, and the first
//! time that happens to a symbol it is logged, so the stream never carries a
//! price that overflows the sums behind it or is refused downstream.

use marquee_shared::{Tick, validate};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, LogNormal, StandardNormal};

/// Seconds in a trading year (252 days of 6.5 hours), the unit of σ.
const TRADING_YEAR_SECS: f64 = 252.0 * 6.5 * 3600.0;

/// Where one symbol's walk starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Seed {
    pub symbol: String,
    /// The previous close; `change` is measured against it.
    pub reference: f64,
    /// The first step moves from this price (the reference, or the last
    /// stored tick when resuming).
    pub price: f64,
    /// The seq of the last tick already made for this symbol (0 for none).
    pub seq: u64,
}

impl Seed {
    /// A fresh start at the reference price.
    pub fn at(symbol: impl Into<String>, reference: f64) -> Self {
        Self { symbol: symbol.into(), reference, price: reference, seq: 0 }
    }
}

/// How the walk moves.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WalkParams {
    /// Annualised volatility σ.
    pub volatility: f64,
    /// Annualised drift μ.
    pub drift: f64,
    /// Simulated seconds that pass between two steps.
    pub step_secs: f64,
    /// Chance per step and symbol of a jump (news), in [0, 1].
    pub jump_probability: f64,
    /// Standard deviation of a jump's log return (0.02 = about 2 %).
    pub jump_size: f64,
}

#[derive(Debug)]
struct SymbolState {
    symbol: String,
    reference: f64,
    price: f64,
    seq: u64,
    /// True once the walk has been held at a limit of the price range.
    clamped: bool,
}

/// A seed's price within the accepted range (NaN, which has no nearest
/// price, at the floor); the driver only seeds valid prices, this is the
/// walk's own guarantee.
fn bounded(price: f64) -> f64 {
    validate::clamp_price(price).unwrap_or(validate::MIN_PRICE)
}

/// A deterministic multi-symbol random walk.
#[derive(Debug)]
pub struct RandomWalk {
    symbols: Vec<SymbolState>,
    rng: StdRng,
    /// Per-step drift term `(μ − σ²/2)·dt`.
    drift_term: f64,
    /// Per-step diffusion scale `σ·√dt`.
    diffusion: f64,
    jump_probability: f64,
    jump_size: f64,
    sizes: LogNormal<f64>,
}

impl RandomWalk {
    /// A walk over `seeds`, reproducible for a given `rng_seed`.
    pub fn new(seeds: Vec<Seed>, params: WalkParams, rng_seed: u64) -> Self {
        let dt = params.step_secs / TRADING_YEAR_SECS;
        let sigma = params.volatility;
        Self {
            symbols: Vec::new(),
            rng: StdRng::seed_from_u64(rng_seed),
            drift_term: (params.drift - sigma * sigma / 2.0) * dt,
            diffusion: sigma * dt.sqrt(),
            jump_probability: params.jump_probability.clamp(0.0, 1.0),
            jump_size: params.jump_size.abs(),
            // Median ≈ 150 shares, with a long right tail.
            sizes: LogNormal::new(5.0, 1.0).unwrap_or_else(|_| unreachable!("σ = 1 is a valid log-normal")),
        }
        .with_symbols(seeds)
    }

    fn with_symbols(mut self, seeds: Vec<Seed>) -> Self {
        for seed in seeds {
            self.add(seed);
        }
        self
    }

    /// Adds a symbol (ignored if it is already walking).
    pub fn add(&mut self, seed: Seed) {
        if !self.contains(&seed.symbol) {
            let (reference, price) = (bounded(seed.reference), bounded(seed.price));
            let clamped = reference != seed.reference || price != seed.price;
            if clamped {
                tracing::warn!(
                    symbol = %seed.symbol,
                    reference = seed.reference,
                    price = seed.price,
                    "a seed outside the accepted prices ({} to {}); held within them",
                    validate::MIN_PRICE,
                    validate::MAX_PRICE
                );
            }
            self.symbols.push(SymbolState { symbol: seed.symbol, reference, price, seq: seed.seq, clamped });
        }
    }

    pub fn contains(&self, symbol: &str) -> bool {
        self.symbols.iter().any(|s| s.symbol == symbol)
    }

    /// Advances every symbol by one step, stamping the ticks with `ts`
    /// (nanoseconds since the epoch). Returns one tick per symbol, in seed order.
    pub fn step(&mut self, ts: i64) -> Vec<Tick> {
        self.symbols
            .iter_mut()
            .map(|s| {
                let z: f64 = StandardNormal.sample(&mut self.rng);
                let mut log_return = self.drift_term + self.diffusion * z;
                if self.jump_probability > 0.0 && self.rng.random_bool(self.jump_probability) {
                    let jump: f64 = StandardNormal.sample(&mut self.rng);
                    log_return += self.jump_size * jump;
                }
                let moved = s.price * log_return.exp();
                match validate::clamp_price(moved) {
                    Some(price) if price == moved => s.price = price,
                    held => {
                        if !s.clamped {
                            s.clamped = true;
                            tracing::warn!(
                                symbol = %s.symbol,
                                attempted = moved,
                                limit = held.unwrap_or(s.price),
                                "the simulated price left the accepted range ({} to {}); held at the limit \
                                 (logged once per symbol)",
                                validate::MIN_PRICE,
                                validate::MAX_PRICE
                            );
                        }
                        s.price = held.unwrap_or(s.price);
                    }
                }
                // 2^53 seqs take centuries; saturating rather than wrapping all the same.
                s.seq = s.seq.saturating_add(1);
                let size =
                    self.sizes.sample(&mut self.rng).round().clamp(1.0, validate::MAX_VOLUME as f64) as u64;
                // Odd lots aside, prints come in round lots of 100.
                let size = if size > 100 && self.rng.random_bool(0.8) { size / 100 * 100 } else { size };
                let size = size as f64;
                let change = s.price - s.reference;
                Tick {
                    symbol: s.symbol.clone(),
                    seq: s.seq,
                    ts,
                    price: s.price,
                    size,
                    change,
                    change_pct: change / s.reference * 100.0,
                }
            })
            .collect()
    }

    /// Where each symbol stands: its last seq and price.
    pub fn positions(&self) -> impl Iterator<Item = (&str, u64, f64)> {
        self.symbols.iter().map(|s| (s.symbol.as_str(), s.seq, s.price))
    }

    /// The symbols whose walk has been held at a limit of the price range.
    pub fn clamped(&self) -> impl Iterator<Item = &str> {
        self.symbols.iter().filter(|s| s.clamped).map(|s| s.symbol.as_str())
    }

    /// How many symbols tick on every step.
    pub fn len(&self) -> usize {
        self.symbols.len()
    }

    /// True when there is nothing to simulate.
    pub fn is_empty(&self) -> bool {
        self.symbols.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeds() -> Vec<Seed> {
        [("AAPL", 200.0), ("MSFT", 400.0), ("KO", 60.0)].into_iter().map(|(s, p)| Seed::at(s, p)).collect()
    }

    const PARAMS: WalkParams =
        WalkParams { volatility: 0.4, drift: 0.0, step_secs: 6.0, jump_probability: 0.0, jump_size: 0.0 };

    #[test]
    fn every_step_ticks_every_symbol_with_the_next_seq() {
        let mut walk = RandomWalk::new(seeds(), PARAMS, 1);
        for step in 1..=50 {
            let ticks = walk.step(step * 1_000);
            let symbols: Vec<_> = ticks.iter().map(|t| t.symbol.as_str()).collect();
            assert_eq!(symbols, ["AAPL", "MSFT", "KO"]);
            assert!(ticks.iter().all(|t| t.seq == step as u64 && t.ts == step * 1_000));
            assert!(ticks.iter().all(|t| t.price > 0.0 && t.size >= 1.0));
        }
    }

    #[test]
    fn the_same_seed_gives_the_same_path_and_another_seed_another() {
        let path = |seed| {
            let mut walk = RandomWalk::new(seeds(), PARAMS, seed);
            (0..20).flat_map(|i| walk.step(i)).collect::<Vec<_>>()
        };
        assert_eq!(path(7), path(7));
        assert_ne!(path(7), path(8));
    }

    #[test]
    fn change_is_measured_against_the_reference() {
        let mut walk = RandomWalk::new(seeds(), PARAMS, 3);
        let ticks = (0..10).flat_map(|i| walk.step(i)).collect::<Vec<_>>();
        for t in ticks {
            let reference = if t.symbol == "AAPL" {
                200.0
            } else if t.symbol == "MSFT" {
                400.0
            } else {
                60.0
            };
            assert!((t.change - (t.price - reference)).abs() < 1e-9);
            assert!((t.change_pct - t.change / reference * 100.0).abs() < 1e-9);
        }
    }

    #[test]
    fn log_returns_have_the_configured_volatility() {
        // 20 000 steps of one symbol: the sample standard deviation of log
        // returns must be close to σ·√dt (within 3 %, far beyond sampling noise).
        let mut walk = RandomWalk::new(vec![Seed::at("X", 100.0)], PARAMS, 11);
        let prices: Vec<f64> = (0..20_001).map(|i| walk.step(i)[0].price).collect();
        let returns: Vec<f64> = prices.windows(2).map(|w| (w[1] / w[0]).ln()).collect();
        let n = returns.len() as f64;
        let mean = returns.iter().sum::<f64>() / n;
        let sd = (returns.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (n - 1.0)).sqrt();
        let expected = PARAMS.volatility * (PARAMS.step_secs / TRADING_YEAR_SECS).sqrt();
        assert!((sd / expected - 1.0).abs() < 0.03, "sd {sd} vs expected {expected}");
    }

    #[test]
    fn jumps_make_rare_large_moves() {
        let params = WalkParams { jump_probability: 0.01, jump_size: 0.05, ..PARAMS };
        let mut walk = RandomWalk::new(vec![Seed::at("X", 100.0)], params, 2);
        let prices: Vec<f64> = (0..20_000).map(|i| walk.step(i)[0].price).collect();
        let big = prices.windows(2).filter(|w| (w[1] / w[0]).ln().abs() > 0.02).count();
        // Diffusion alone moves about 0.05 % a step: every 2 % move is a jump.
        // About 200 jumps are expected, of which about 69 % exceed 2 %.
        assert!((80..=220).contains(&big), "{big} large moves");
    }

    #[test]
    fn resuming_continues_the_seq_from_the_last_stored_tick() {
        let seed = Seed { symbol: "X".into(), reference: 100.0, price: 101.0, seq: 41 };
        let mut walk = RandomWalk::new(vec![seed], PARAMS, 1);
        let tick = &walk.step(0)[0];
        assert_eq!(tick.seq, 42);
        assert!((tick.price / 101.0 - 1.0).abs() < 0.01);
        walk.add(Seed::at("X", 5.0));
        walk.add(Seed::at("Y", 5.0));
        assert_eq!(walk.len(), 2, "an existing symbol is not added twice");
    }

    #[test]
    fn prices_stay_within_the_accepted_range() {
        // A seed at the ceiling with a strong upward drift, one beyond the
        // ceiling, and one far below the floor.
        let params = WalkParams { drift: 1e4, jump_probability: 0.2, jump_size: 1.0, ..PARAMS };
        let seeds = vec![
            Seed::at("TOP", validate::MAX_PRICE),
            Seed { symbol: "POISON".into(), reference: 1e308, price: f64::INFINITY, seq: 0 },
            Seed::at("TINY", 1e-300),
        ];
        let mut walk = RandomWalk::new(seeds, params, 9);
        for step in 0..2_000 {
            for tick in walk.step(step) {
                assert!(validate::Validate::validate(&tick).is_ok(), "{tick:?}");
            }
        }
        let mut clamped: Vec<&str> = walk.clamped().collect();
        clamped.sort_unstable();
        assert_eq!(clamped, ["POISON", "TINY", "TOP"], "held at a limit, each noted once");
    }

    #[test]
    fn sizes_are_positive_and_mostly_round_lots() {
        let mut walk = RandomWalk::new(seeds(), PARAMS, 5);
        let sizes: Vec<u64> = (0..2_000).flat_map(|i| walk.step(i)).map(|t| t.size as u64).collect();
        assert!(sizes.iter().all(|&s| s >= 1));
        let round = sizes.iter().filter(|&&s| s % 100 == 0).count();
        assert!(round > sizes.len() / 4, "{round} round lots of {}", sizes.len());
        assert!(sizes.iter().any(|&s| s >= 1_000), "no large print in 6000");
    }
}
