//! The vocabulary every stage shares: the stages themselves ([`Stage`]),
//! time, symbols, the one shutdown path, loopback addresses and logging.

pub mod net;
pub mod shutdown;
pub mod stage;
pub mod symbol;
pub mod telemetry;
pub mod time;

pub use stage::Stage;
