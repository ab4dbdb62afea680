//! The split deployment's membership and trust: the instances a process has
//! heard from ([`instances`]) and the cluster key that signs what crosses
//! between them ([`cluster_key`]).

pub mod cluster_key;
pub mod instances;
