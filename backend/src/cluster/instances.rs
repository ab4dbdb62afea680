//! The running `marquee` processes: this one, and, in a split deployment,
//! the others as their heartbeats (read from Kafka) tell.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use marquee_shared::{Health, Instance, Metrics, SimulationState, Status};
use serde::{Deserialize, Serialize};

use crate::cluster::cluster_key::ClusterKey;
use crate::config::{Role, Roles};

/// After this long without a heartbeat an instance is shown as down.
pub const STALE_AFTER: Duration = Duration::from_secs(5);
/// After this long without a heartbeat an instance is no longer listed.
pub const FORGET_AFTER: Duration = Duration::from_secs(60);
/// How far apart two machines' clocks may be. A heartbeat sent longer ago
/// than [`STALE_AFTER`] and this (by its sender's clock) arrives too late to
/// say its sender is alive: a backlog read after a broker outage, say.
const CLOCK_SKEW: Duration = Duration::from_secs(10);
/// Instances listed at most: a deployment has a handful.
const MAX_INSTANCES: usize = 1024;

/// Why a heartbeat read from Kafka was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum HeartbeatRefused {
    #[error("heartbeats are ignored: this process has no MARQUEE_CLUSTER_SECRET to check them with")]
    NoSecret,
    #[error("an unsigned heartbeat: only processes with MARQUEE_CLUSTER_SECRET are listed")]
    Unsigned,
    #[error(
        "a heartbeat whose signature does not match: forged, or its sender has another MARQUEE_CLUSTER_SECRET"
    )]
    Signature,
    #[error("a signed heartbeat that is not a heartbeat: {0}")]
    Malformed(#[from] serde_json::Error),
    #[error("a heartbeat from the future ({0} s ahead of this clock)")]
    Future(i64),
    #[error("more than {MAX_INSTANCES} instances are listed already")]
    Full,
}

/// One process's heartbeat: itself and, from a driver, the simulation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Heartbeat {
    pub instance: Instance,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub simulation: Option<SimulationState>,
}

/// Who this process is.
#[derive(Debug, Clone)]
pub struct ThisInstance {
    pub id: String,
    pub roles: Roles,
    pub address: String,
    /// Signs this process's heartbeats and checks the others'.
    pub key: Option<ClusterKey>,
}

impl ThisInstance {
    /// This process as of the `metrics` just sampled.
    pub fn describe(&self, metrics: &Metrics) -> Instance {
        Instance {
            id: self.id.clone(),
            roles: self.roles.names(),
            address: self.address.clone(),
            status: Health::overall_with(&metrics.stages, &metrics.dependencies),
            seen: metrics.ts,
            uptime_ms: metrics.uptime_ms,
            stages: metrics.stages.clone(),
            dependencies: metrics.dependencies.clone(),
        }
    }

    /// The heartbeat to send for `metrics`; the simulation only from a driver.
    pub fn heartbeat(&self, metrics: &Metrics, simulation: SimulationState) -> Heartbeat {
        Heartbeat {
            instance: self.describe(metrics),
            simulation: self.roles.has(Role::Driver).then_some(simulation),
        }
    }

    /// `heartbeat` as sent: its bytes and their signature (when this
    /// process has the cluster secret).
    pub fn signed(&self, heartbeat: &Heartbeat) -> serde_json::Result<(Vec<u8>, Option<String>)> {
        let payload = serde_json::to_vec(heartbeat)?;
        let signature = self.key.as_ref().map(|key| key.sign_heartbeat(&payload));
        Ok((payload, signature))
    }
}

/// The other instances, by id, with when their last heartbeat arrived.
#[derive(Debug)]
pub struct Instances {
    this: String,
    key: Option<ClusterKey>,
    seen: Mutex<HashMap<String, (Heartbeat, Instant)>>,
}

impl Instances {
    pub fn new(this: &ThisInstance) -> Self {
        Self { this: this.id.clone(), key: this.key.clone(), seen: Mutex::new(HashMap::new()) }
    }

    /// A heartbeat as it came from Kafka, recorded only if it carries the
    /// cluster secret's signature: the addresses heartbeats name are where
    /// operator requests are forwarded, so anyone able to write to the
    /// topic must not be able to name one.
    pub fn receive(&self, payload: &[u8], signature: Option<&[u8]>) -> Result<(), HeartbeatRefused> {
        let key = self.key.as_ref().ok_or(HeartbeatRefused::NoSecret)?;
        let signature = signature.ok_or(HeartbeatRefused::Unsigned)?;
        if !key.verify_heartbeat(payload, signature) {
            return Err(HeartbeatRefused::Signature);
        }
        let heartbeat: Heartbeat = serde_json::from_slice(payload)?;
        self.record_at(heartbeat, Instant::now(), crate::common::time::now_ns())
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Heartbeat, Instant)>> {
        // Poisoned only by a panic mid-insert of a plain value: still usable.
        self.seen.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Notes a heartbeat (this process's own are ignored: it knows itself).
    fn record_at(&self, heartbeat: Heartbeat, now: Instant, now_ns: i64) -> Result<(), HeartbeatRefused> {
        if heartbeat.instance.id == self.this {
            return Ok(());
        }
        // From the future by more than the clocks may differ: broken
        // (`seen: i64::MAX` would otherwise stay newest forever).
        let ahead = heartbeat.instance.seen.saturating_sub(now_ns);
        if ahead > CLOCK_SKEW.as_nanos() as i64 {
            return Err(HeartbeatRefused::Future(ahead / 1_000_000_000));
        }
        // Saturating: `seen` is whatever the sender wrote (i64::MIN included).
        let sent_ago =
            Duration::from_nanos(u64::try_from(now_ns.saturating_sub(heartbeat.instance.seen)).unwrap_or(0));
        // A late heartbeat is kept (it is the latest word) but shows as silent.
        let alive_at = if sent_ago > STALE_AFTER + CLOCK_SKEW {
            now.checked_sub(STALE_AFTER).unwrap_or(now)
        } else {
            now
        };
        let mut seen = self.seen();
        if seen.len() >= MAX_INSTANCES && !seen.contains_key(&heartbeat.instance.id) {
            seen.retain(|_, (_, at)| now.saturating_duration_since(*at) < FORGET_AFTER);
            if seen.len() >= MAX_INSTANCES {
                return Err(HeartbeatRefused::Full);
            }
        }
        let newer = seen
            .get(&heartbeat.instance.id)
            .is_none_or(|(old, _)| old.instance.seen <= heartbeat.instance.seen);
        if newer {
            seen.insert(heartbeat.instance.id.clone(), (heartbeat, alive_at));
        }
        Ok(())
    }

    /// The others as of `now`, sorted by their first role and address; one
    /// silent for [`STALE_AFTER`] is down, for [`FORGET_AFTER`] gone.
    pub fn others(&self, now: Instant) -> Vec<Instance> {
        let mut seen = self.seen();
        seen.retain(|_, (_, at)| now.saturating_duration_since(*at) < FORGET_AFTER);
        let mut others: Vec<Instance> = seen
            .values()
            .map(|(beat, at)| {
                let mut instance = beat.instance.clone();
                if now.saturating_duration_since(*at) >= STALE_AFTER {
                    instance.status = Status::Down;
                }
                instance
            })
            .collect();
        others
            .sort_by(|a, b| (a.roles.first(), &a.address, &a.id).cmp(&(b.roles.first(), &b.address, &b.id)));
        others
    }

    /// The simulation as the freshest live driver reports it.
    pub fn simulation(&self, now: Instant) -> Option<SimulationState> {
        self.seen()
            .values()
            .filter(|(_, at)| now.saturating_duration_since(*at) < STALE_AFTER)
            .filter_map(|(beat, at)| beat.simulation.map(|s| (s, *at)))
            .max_by_key(|(_, at)| *at)
            .map(|(simulation, _)| simulation)
    }

    /// The address of a live instance running `role`, if any.
    pub fn address_of(&self, role: Role, now: Instant) -> Option<String> {
        self.seen()
            .values()
            .filter(|(_, at)| now.saturating_duration_since(*at) < STALE_AFTER)
            .find(|(beat, _)| beat.instance.roles.iter().any(|r| r == role.as_str()))
            .map(|(beat, _)| beat.instance.address.clone())
    }
}

#[cfg(test)]
mod tests;
