//! The pipeline's stages and the roles a process runs them under: typed,
//! so that adding a stage is one variant and the compiler lists every place
//! that must know about it (stats, health, metrics labels, forwarding).

use std::collections::BTreeSet;

use clap::ValueEnum;

/// A stage of the pipeline, in pipeline order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// Alpha Vantage fetches, CSV imports and the demo universe.
    Ingest,
    /// The live simulation: makes ticks.
    Driver,
    /// Buffers ticks, computes bars, indicators and alerts.
    Receiver,
    /// The receiver's writes to the store.
    Store,
    /// The hub and the WebSocket clients; its latency is end to end.
    Gateway,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 5] = [Stage::Ingest, Stage::Driver, Stage::Receiver, Stage::Store, Stage::Gateway];

    /// The name in `/health`, the dashboard and the `stage` label of `/metrics`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Ingest => "ingest",
            Stage::Driver => "driver",
            Stage::Receiver => "receiver",
            Stage::Store => "store",
            Stage::Gateway => "gateway",
        }
    }

    /// The stage named `name`, if there is one.
    pub fn named(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|stage| stage.name() == name)
    }

    /// The role a process runs this stage under: the store's writes are the
    /// receiver's.
    pub fn role(self) -> Role {
        match self {
            Stage::Ingest => Role::Ingest,
            Stage::Driver => Role::Driver,
            Stage::Receiver | Stage::Store => Role::Receiver,
            Stage::Gateway => Role::Gateway,
        }
    }
}

/// A stage a process can run (`--role`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, ValueEnum)]
pub enum Role {
    /// Alpha Vantage fetches, CSV imports and the demo universe.
    Ingest,
    /// The live simulation: produces ticks.
    Driver,
    /// Stores ticks, computes bars, indicators and alerts.
    Receiver,
    /// The dashboard, REST API and WebSocket.
    Gateway,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Ingest, Role::Driver, Role::Receiver, Role::Gateway];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Ingest => "ingest",
            Role::Driver => "driver",
            Role::Receiver => "receiver",
            Role::Gateway => "gateway",
        }
    }
}

/// The roles this process runs; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles(BTreeSet<Role>);

impl FromIterator<Role> for Roles {
    /// The given roles; all of them if none is given.
    fn from_iter<I: IntoIterator<Item = Role>>(roles: I) -> Self {
        let roles: BTreeSet<Role> = roles.into_iter().collect();
        if roles.is_empty() { Self::all() } else { Self(roles) }
    }
}

impl Roles {
    pub fn all() -> Self {
        Self(Role::ALL.into_iter().collect())
    }

    pub fn has(&self, role: Role) -> bool {
        self.0.contains(&role)
    }

    pub fn is_all(&self) -> bool {
        self.0.len() == Role::ALL.len()
    }

    pub fn iter(&self) -> impl Iterator<Item = Role> + '_ {
        self.0.iter().copied()
    }

    /// `ingest,driver` style, in pipeline order.
    pub fn names(&self) -> Vec<String> {
        self.iter().map(|r| r.as_str().to_owned()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_has_a_name_of_its_own_and_a_role() {
        for stage in Stage::ALL {
            assert_eq!(Stage::named(stage.name()), Some(stage));
        }
        assert_eq!(Stage::named("heartbeats"), None);
        assert_eq!(Stage::Store.role(), Role::Receiver, "the receiver writes the store");
        for role in Role::ALL {
            assert!(Stage::ALL.iter().any(|stage| stage.role() == role), "{role:?} runs a stage");
        }
    }
}
