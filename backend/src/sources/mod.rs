//! Where ticks and prices come from when no vendor is asked: the built-in
//! demo universe ([`demo_universe`]) and the simulation's model
//! ([`random_walk`], pure: the driver stage runs it).

pub mod demo_universe;
pub mod feed;
pub mod random_walk;
pub mod replay;
pub mod venues;
