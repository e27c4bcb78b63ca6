//! The scenario format: versioned JSON that describes a run completely — topology, accounts,
//! workload, network, disk, timeouts, protocol options, the fault schedule and the seed.
//! Validation names the bad field and why, and explicit limits bound every size.

use crate::fault::{Fault, MessageTarget, ScheduledFault};
use crate::rng::Ratio;
use crate::schedule::Choice;
use commitlab_protocol::paxos::{PaxosBugs, PaxosConfig};
use commitlab_protocol::raft::{RaftBugs, RaftConfig};
use commitlab_protocol::replica::EngineConfig;
use commitlab_protocol::replica::ReplicaConfig;
use commitlab_protocol::route::{Group, Groups, RouteConfig};
use commitlab_protocol::{
    AccountId, Bugs, Directory, Endpoint, Millis, NodeConfig, NodeId, Recovery, RequestId, Revision, ShardEntry,
    ShardId, Timeouts, Transfer, TxnNumbering, TxnSpec, WriteMode, MESSAGE_KINDS,
};
use commitlab_protocol::{VecMap, VecSet};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// The scenario format version this build writes; it reads every version up to it.
pub const SCENARIO_VERSION: u32 = 2;

/// Explicit bounds on every size a scenario can ask for.
pub mod limits {
    pub const SHARDS: usize = 16;
    pub const ACCOUNTS: u64 = 100_000;
    pub const REQUESTS: usize = 10_000;
    pub const TRANSFERS_PER_REQUEST: usize = 16;
    pub const FAULTS: usize = 1_000;
    pub const BALANCE: i64 = 1_000_000_000_000;
    pub const AMOUNT: u64 = 1_000_000_000_000;
    pub const TIME_MS: u64 = 100_000_000;
    pub const LATENCY_MS: u64 = 60_000;
    pub const STEPS: u64 = 5_000_000;
    /// Steps of a scheduled run, at most.
    pub const SCHEDULE: usize = 10_000;
    pub const JSON_BYTES: usize = 4 * 1024 * 1024;
    /// Raft entries in one AppendEntries, at most.
    pub const ENTRIES_PER_MESSAGE: usize = 64;
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScenarioError {
    #[error("the scenario cannot be read (line {line}, column {column}): {message}")]
    Json { line: usize, column: usize, message: String },
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
}

fn invalid(field: impl Into<String>, reason: impl Into<String>) -> ScenarioError {
    ScenarioError::Invalid { field: field.into(), reason: reason.into() }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    pub version: u32,
    #[serde(default)]
    pub name: String,
    /// The protocol revision the run follows (see `Revision`): 1 when absent, as in every link and
    /// file made before revisions existed, so they replay their identical run; presets and new
    /// scenarios run `Revision::CURRENT`.
    #[serde(default = "first_protocol", skip_serializing_if = "is_first_protocol")]
    pub protocol: u32,
    #[serde(default)]
    pub seed: u64,
    pub topology: Topology,
    #[serde(default)]
    pub workload: Workload,
    #[serde(default)]
    pub network: Network,
    #[serde(default)]
    pub disk: Disk,
    #[serde(default)]
    pub timeouts: Timeouts,
    /// When participants' writes reach their balances: `in_place` at PREPARE with undo images in
    /// the WAL (seed 002, the default, left out of the JSON so every older scenario and link reads
    /// and encodes as before), or `deferred` to COMMIT from a redo record (seed 004's "resources
    /// are locked but not changed").
    #[serde(default, skip_serializing_if = "WriteMode::is_in_place", deserialize_with = "write_mode")]
    pub writes: WriteMode,
    #[serde(default, skip_serializing_if = "is_default")]
    pub bugs: Bugs,
    /// Single nodes (the default), or every shard and a dedicated coordinator as a consensus group.
    #[serde(default, skip_serializing_if = "is_default")]
    pub replication: Replication,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<ScheduledFault>,
    /// A scheduled run (scenario version 2 on): the steps to take, in order, instead of the events
    /// the clock brings (see [`crate::schedule`]). What the explorer's counterexamples are made of.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedule: Vec<Choice>,
    /// The run stops at this virtual time (an in-doubt participant would otherwise ask forever).
    #[serde(default = "default_end_ms")]
    pub end_ms: Millis,
    /// The run stops after this many events.
    #[serde(default = "default_max_steps")]
    pub max_steps: u64,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
}

/// Reads `writes`, naming both values and what they mean when the text is neither. The text is
/// checked inside the reader's own `visit_str`, so the error names the field.
fn write_mode<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<WriteMode, D::Error> {
    commitlab_protocol::ids::deserialize_parsed(deserializer)
}

fn first_protocol() -> u32 {
    Revision::FIRST.0
}

fn is_first_protocol(protocol: &u32) -> bool {
    *protocol == Revision::FIRST.0
}

fn default_end_ms() -> Millis {
    2_000
}

fn default_max_steps() -> u64 {
    1_000_000
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CoordinatorPlacement {
    /// The shard of the first transfer's sender coordinates and takes part (seed 002).
    #[default]
    Colocated,
    /// A separate transaction manager node coordinates (seeds 001, 003, 004).
    Dedicated,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Topology {
    #[serde(default)]
    pub coordinator: CoordinatorPlacement,
    pub shards: Vec<ShardSpec>,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShardSpec {
    /// Account number to balance.
    #[serde(default)]
    pub accounts: VecMap<AccountId, i64>,
    /// Many accounts with one balance: `first`, `first + 1`, ... (`count` of them).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generate: Option<GeneratedAccounts>,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GeneratedAccounts {
    pub first: AccountId,
    pub count: u64,
    pub balance: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workload {
    #[serde(default)]
    pub requests: Vec<RequestSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub random: Option<RandomWorkload>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestSpec {
    #[serde(default)]
    pub at_ms: Millis,
    /// Defaults to r<position>; reuse an id to send a duplicate request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<RequestId>,
    pub transfers: Vec<Transfer>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub journal: Vec<ShardId>,
    /// Run this request as a saga instead of two-phase commit (seed 004's alternative).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub saga: bool,
}

/// `count` transfers between random accounts, one every `interval_ms`: contention comes from
/// concurrent transfers touching the same accounts.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RandomWorkload {
    pub count: usize,
    #[serde(default)]
    pub start_ms: Millis,
    pub interval_ms: Millis,
    pub amount_max: u64,
    /// Run every random transfer as a saga instead of two-phase commit.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub saga: bool,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Network {
    pub latency_ms_min: Millis,
    pub latency_ms_max: Millis,
    pub loss: Ratio,
    pub duplication: Ratio,
}

impl Default for Network {
    fn default() -> Self {
        Network { latency_ms_min: 5, latency_ms_max: 15, loss: Ratio::ZERO, duplication: Ratio::ZERO }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Disk {
    /// How long a WAL append takes to become durable.
    pub write_ms: Millis,
}

impl Default for Disk {
    fn default() -> Self {
        Disk { write_ms: 2 }
    }
}

/// The consensus engine under each group.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Engine {
    /// One node per shard: today's two-phase commit, which blocks when the coordinator fails.
    #[default]
    None,
    /// Every shard (and a dedicated coordinator) is a Raft group.
    Raft,
    /// Every shard (and a dedicated coordinator) is a Multi-Paxos group, as seed 002 draws it.
    MultiPaxos,
}

/// How shards are replicated. Nodes are numbered as in seed 002: group k holds
/// n(k*replicas+1) .. n(k*replicas+replicas), so with 3 replicas C1 = n1-n3, C2 = n4-n6, C3 = n7-n9,
/// then the dedicated coordinator's group.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Replication {
    pub engine: Engine,
    /// Replicas per group: 3 or 5.
    pub replicas: u16,
    /// Each election timeout is drawn uniformly from this range by the world's PRNG.
    pub election_timeout_ms_min: Millis,
    pub election_timeout_ms_max: Millis,
    pub heartbeat_ms: Millis,
    /// At most this many log entries travel in one AppendEntries (left out of the JSON at 16, so
    /// links made before the field existed encode as they did).
    #[serde(skip_serializing_if = "is_default_batch")]
    pub entries_per_message: usize,
}

const DEFAULT_ENTRIES_PER_MESSAGE: usize = 16;

fn is_default_batch(value: &usize) -> bool {
    *value == DEFAULT_ENTRIES_PER_MESSAGE
}

impl Default for Replication {
    fn default() -> Self {
        Replication {
            engine: Engine::None,
            replicas: 3,
            election_timeout_ms_min: 150,
            election_timeout_ms_max: 300,
            heartbeat_ms: 50,
            entries_per_message: DEFAULT_ENTRIES_PER_MESSAGE,
        }
    }
}

impl Replication {
    pub fn is_replicated(&self) -> bool {
        self.engine != Engine::None
    }
}

/// One client request with everything resolved: id, coordinator and time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkItem {
    pub at_ms: Millis,
    pub request: RequestId,
    pub spec: TxnSpec,
    pub coordinator: NodeId,
}

/// A node of the cluster as the scenario lays it out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeLayout {
    pub id: NodeId,
    /// `C1`, `C2`, ... or `TM` for a dedicated coordinator.
    pub label: String,
    pub config: Arc<NodeConfig>,
    /// In the replicated mode: the replica's consensus and routing configuration.
    pub replica: Option<Arc<ReplicaConfig>>,
}

impl Scenario {
    /// Parses and validates a scenario.
    pub fn from_json(text: &str) -> Result<Scenario, ScenarioError> {
        if text.len() > limits::JSON_BYTES {
            return Err(invalid(
                "scenario",
                format!("{} bytes is more than the limit of {}", text.len(), limits::JSON_BYTES),
            ));
        }
        let mut deserializer = serde_json::Deserializer::from_str(text);
        let scenario = Scenario::deserialize(&mut deserializer).map_err(|error| {
            // The field's path from where serde_json stopped (see `json_path` for why not a wrapper).
            let path = crate::json_path::path_at(text, crate::json_path::offset_of(text, error.line(), error.column()));
            let message = error.to_string();
            let message = message.split(" at line ").next().unwrap_or_default();
            let message = if path == "." { message.to_string() } else { format!("{path}: {message}") };
            ScenarioError::Json { line: error.line(), column: error.column(), message }
        })?;
        deserializer.end().map_err(|error| ScenarioError::Json {
            line: error.line(),
            column: error.column(),
            message: "unexpected text after the scenario".to_string(),
        })?;
        scenario.validate()?;
        Ok(scenario)
    }

    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).expect("a scenario always serialises")
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a scenario always serialises")
    }

    /// The scenario as a JSON value (objects' keys sorted, as `serde_json::to_value` gives it),
    /// read back from its text: serialising into a `Value` directly would put a second copy of
    /// every scenario type's `Serialize` code into the wasm, for `Value`'s serializer.
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.to_json_pretty()).expect("a scenario's JSON reads back")
    }

    /// The single node of shard `index` (0-based): n1, n4, n7, ... leaving room for 3-node groups.
    pub fn shard_node(index: usize) -> NodeId {
        NodeId(u16::try_from(3 * index + 1).expect("shard count is bounded"))
    }

    /// Node numbers per group: 3 without replication (n1, n4, n7 as seed 002 draws the leaders),
    /// the replica count with it.
    fn stride(&self) -> usize {
        if self.replication.is_replicated() {
            self.replication.replicas as usize
        } else {
            3
        }
    }

    /// The nodes of group `index` (a shard, or the dedicated coordinator after the shards).
    pub fn group_members(&self, index: usize) -> Vec<NodeId> {
        let first = self.stride() * index + 1;
        let count = if self.replication.is_replicated() { self.replication.replicas as usize } else { 1 };
        (first..first + count).map(|id| NodeId(u16::try_from(id).expect("node count is bounded"))).collect()
    }

    /// The address of group `index`: its first node (the only one without replication).
    pub fn group_address(&self, index: usize) -> NodeId {
        NodeId(u16::try_from(self.stride() * index + 1).expect("node count is bounded"))
    }

    /// The dedicated coordinator's node (or group address), after the shards'.
    pub fn dedicated_coordinator_node(&self) -> Option<NodeId> {
        (self.topology.coordinator == CoordinatorPlacement::Dedicated)
            .then(|| self.group_address(self.topology.shards.len()))
    }

    /// How many groups: every shard, and the dedicated coordinator if there is one.
    pub fn group_count(&self) -> usize {
        self.topology.shards.len() + usize::from(self.topology.coordinator == CoordinatorPlacement::Dedicated)
    }

    fn group_label(&self, index: usize) -> String {
        if index < self.topology.shards.len() {
            ShardId(index as u16).to_string()
        } else {
            "TM".to_string()
        }
    }

    /// Every group with its members (one member each without replication).
    pub fn groups(&self) -> Groups {
        let groups = (0..self.group_count())
            .map(|index| Group { label: self.group_label(index), members: self.group_members(index) })
            .collect();
        Groups { groups }
    }

    /// Every account with its starting balance, shard by shard.
    pub fn shard_accounts(&self, index: usize) -> VecMap<AccountId, i64> {
        let shard = &self.topology.shards[index];
        let mut accounts = shard.accounts.clone();
        if let Some(generate) = shard.generate {
            for offset in 0..generate.count {
                accounts.entry(AccountId(generate.first.0 + offset)).or_insert(generate.balance);
            }
        }
        accounts
    }

    pub fn directory(&self) -> Directory {
        let shards = (0..self.topology.shards.len())
            .map(|index| {
                let accounts = self.shard_accounts(index);
                let first = accounts.keys().next().copied().unwrap_or(AccountId(0));
                let last = accounts.keys().next_back().copied().unwrap_or(AccountId(0));
                ShardEntry {
                    shard: ShardId(index as u16),
                    node: self.group_address(index),
                    first_account: first,
                    last_account: last,
                }
            })
            .collect();
        Directory { shards }
    }

    /// The nodes of the cluster with their configurations, in id order.
    pub fn nodes(&self) -> Vec<NodeLayout> {
        let directory = self.directory();
        let shard_count = self.topology.shards.len();
        let colocated = self.topology.coordinator == CoordinatorPlacement::Colocated;
        let groups = Arc::new(self.groups());
        let mut nodes = Vec::new();
        for index in 0..self.group_count() {
            let is_shard = index < shard_count;
            let coordinator = match (is_shard, colocated) {
                (true, true) => Some(TxnNumbering { first: index as u32 + 1, stride: shard_count as u32 }),
                (true, false) => None,
                (false, _) => Some(TxnNumbering { first: 1, stride: 1 }),
            };
            let members = self.group_members(index);
            for id in members.iter().copied() {
                let config = Arc::new(NodeConfig {
                    id,
                    shard: is_shard.then_some(ShardId(index as u16)),
                    coordinator,
                    directory: directory.clone(),
                    initial_balances: if is_shard { self.shard_accounts(index) } else { VecMap::new() },
                    timeouts: self.timeouts,
                    bugs: self.bugs,
                    recovery: if self.replication.is_replicated() { Recovery::Resume } else { Recovery::PresumeAbort },
                    revision: Revision(self.protocol),
                    writes: self.writes,
                });
                let replica = self
                    .replication
                    .is_replicated()
                    .then(|| self.replica_config(id, index, &members, &config, &groups));
                nodes.push(NodeLayout { id, label: self.group_label(index), config, replica });
            }
        }
        nodes
    }

    fn replica_config(
        &self,
        id: NodeId,
        index: usize,
        members: &[NodeId],
        node: &Arc<NodeConfig>,
        groups: &Arc<Groups>,
    ) -> Arc<ReplicaConfig> {
        let replication = &self.replication;
        let engine = match replication.engine {
            Engine::MultiPaxos => EngineConfig::Paxos {
                config: Arc::new(PaxosConfig {
                    id,
                    members: members.to_vec(),
                    heartbeat_ms: replication.heartbeat_ms,
                    election_timeout_ms_min: replication.election_timeout_ms_min,
                    max_slots_per_message: replication.entries_per_message,
                    bugs: PaxosBugs {
                        commit_before_quorum: self.bugs.commit_before_quorum,
                        update_in_place: self.bugs.update_in_place,
                    },
                }),
                // Seed 002's numbering: seq 100 in C1, 200 in C2, and so on.
                first_seq: 100 * (index as u64 + 1),
            },
            Engine::Raft | Engine::None => EngineConfig::Raft(Arc::new(RaftConfig {
                id,
                members: members.to_vec(),
                heartbeat_ms: replication.heartbeat_ms,
                election_timeout_ms_min: replication.election_timeout_ms_min,
                max_entries_per_message: replication.entries_per_message,
                bugs: RaftBugs {
                    vote_without_log_check: self.bugs.vote_without_log_check,
                    commit_old_term_by_count: self.bugs.commit_old_term_by_count,
                },
            })),
        };
        Arc::new(ReplicaConfig { node: node.clone(), engine, groups: groups.clone(), route: self.route_config() })
    }

    /// How senders (coordinators and the client) find a group's leader.
    pub fn route_config(&self) -> RouteConfig {
        RouteConfig { patience_ms: self.replication.election_timeout_ms_min, static_leader: self.bugs.static_leader }
    }

    pub fn node_ids(&self) -> VecSet<NodeId> {
        (0..self.group_count()).flat_map(|index| self.group_members(index)).collect()
    }

    /// The coordinator a request goes to: the dedicated one, or the shard of the first sender.
    pub fn coordinator_for(&self, spec: &TxnSpec, directory: &Directory) -> Option<NodeId> {
        if let Some(node) = self.dedicated_coordinator_node() {
            return Some(node);
        }
        let first = spec.transfers.first()?;
        directory.shard_of(first.from).map(|entry| entry.node)
    }

    /// The explicit requests with ids and coordinators resolved (random ones are drawn by the world).
    pub fn explicit_work(&self, directory: &Directory) -> Vec<WorkItem> {
        self.workload
            .requests
            .iter()
            .enumerate()
            .map(|(index, spec)| {
                let txn_spec =
                    TxnSpec { transfers: spec.transfers.clone(), journal: spec.journal.clone(), saga: spec.saga };
                WorkItem {
                    at_ms: spec.at_ms,
                    request: spec.request.unwrap_or(RequestId(index as u32 + 1)),
                    coordinator: self.coordinator_for(&txn_spec, directory).expect("validated: known accounts"),
                    spec: txn_spec,
                }
            })
            .collect()
    }

    /// True when some request runs as a saga.
    pub fn runs_sagas(&self) -> bool {
        self.workload.requests.iter().any(|request| request.saga)
            || self.workload.random.is_some_and(|random| random.saga && random.count > 0)
    }

    pub fn validate(&self) -> Result<(), ScenarioError> {
        if self.version == 0 || self.version > SCENARIO_VERSION {
            return Err(invalid(
                "version",
                format!("version {} is not supported: this build reads versions 1 to {SCENARIO_VERSION}", self.version),
            ));
        }
        if self.protocol == 0 || self.protocol > Revision::CURRENT.0 {
            return Err(invalid(
                "protocol",
                format!(
                    "protocol revision {} is not known: this build runs revisions 1 to {}",
                    self.protocol,
                    Revision::CURRENT.0
                ),
            ));
        }
        self.validate_topology()?;
        self.validate_replication()?;
        self.validate_workload()?;
        self.validate_network()?;
        self.validate_faults()?;
        if self.end_ms == 0 || self.end_ms > limits::TIME_MS {
            return Err(invalid("end_ms", format!("must be between 1 and {}", limits::TIME_MS)));
        }
        if self.max_steps == 0 || self.max_steps > limits::STEPS {
            return Err(invalid("max_steps", format!("must be between 1 and {}", limits::STEPS)));
        }
        let timeouts = [
            ("timeouts.vote_ms", self.timeouts.vote_ms),
            ("timeouts.resend_ms", self.timeouts.resend_ms),
            ("timeouts.query_ms", self.timeouts.query_ms),
            ("timeouts.client_retry_ms", self.timeouts.client_retry_ms),
        ];
        for (field, value) in timeouts {
            if value == 0 || value > limits::TIME_MS {
                return Err(invalid(field, format!("{value} must be between 1 and {}", limits::TIME_MS)));
            }
        }
        if self.disk.write_ms > limits::LATENCY_MS {
            return Err(invalid(
                "disk.write_ms",
                format!("{} is more than {} ms", self.disk.write_ms, limits::LATENCY_MS),
            ));
        }
        self.validate_schedule()
    }

    /// A schedule is played step by step on a world of its own, so a step that cannot happen
    /// where it stands is named here rather than met halfway through a run.
    fn validate_schedule(&self) -> Result<(), ScenarioError> {
        if self.schedule.is_empty() {
            return Ok(());
        }
        if self.version < 2 {
            return Err(invalid(
                "schedule",
                format!("needs scenario version 2 or later (this one says {})", self.version),
            ));
        }
        if self.schedule.len() > limits::SCHEDULE {
            return Err(invalid(
                "schedule",
                format!("{} steps is more than the limit of {}", self.schedule.len(), limits::SCHEDULE),
            ));
        }
        if self.replication.is_replicated() {
            return Err(invalid("schedule", "scheduled runs are single-node 2PC only for now (replication is on)"));
        }
        if !self.faults.is_empty() {
            return Err(invalid(
                "faults",
                "this run plays a schedule (an explorer's path), whose steps say where faults happen: \
                 it takes no other faults",
            ));
        }
        if !self.network.loss.is_zero() || !self.network.duplication.is_zero() {
            return Err(invalid(
                "network",
                "a scheduled run loses and copies messages only where its schedule says: loss and duplication must be 0",
            ));
        }
        let needed_ms = self.schedule.len() as u64 * crate::schedule::STEP_MS;
        if self.end_ms < needed_ms {
            return Err(invalid(
                "end_ms",
                format!("a schedule of {} steps needs end_ms of at least {needed_ms}", self.schedule.len()),
            ));
        }
        if self.max_steps < self.schedule.len() as u64 {
            return Err(invalid("max_steps", format!("must be at least the schedule's {} steps", self.schedule.len())));
        }
        let mut world = crate::world::World::new(Arc::new(Scenario { schedule: Vec::new(), ..self.clone() }));
        let mut trace = Vec::new();
        for (index, choice) in self.schedule.iter().enumerate() {
            let at_ms = (index as u64 + 1) * crate::schedule::STEP_MS;
            world
                .take(*choice, at_ms, &mut trace)
                .map_err(|reason| invalid(format!("schedule[{index}]"), format!("'{choice}': {reason}")))?;
            trace.clear();
        }
        Ok(())
    }

    fn validate_topology(&self) -> Result<(), ScenarioError> {
        let shards = &self.topology.shards;
        if shards.is_empty() {
            return Err(invalid("topology.shards", "a scenario needs at least one shard"));
        }
        if shards.len() > limits::SHARDS {
            return Err(invalid(
                "topology.shards",
                format!("{} shards is more than the limit of {}", shards.len(), limits::SHARDS),
            ));
        }
        let mut total_accounts: u64 = 0;
        let mut ranges: Vec<(AccountId, AccountId, usize)> = Vec::new();
        for (index, shard) in shards.iter().enumerate() {
            let field = format!("topology.shards[{index}]");
            if let Some(generate) = shard.generate {
                if generate.count > limits::ACCOUNTS {
                    return Err(invalid(
                        format!("{field}.generate.count"),
                        format!("{} accounts is more than the limit of {}", generate.count, limits::ACCOUNTS),
                    ));
                }
                if generate.first.0.checked_add(generate.count).is_none() {
                    return Err(invalid(format!("{field}.generate"), "account numbers overflow"));
                }
                check_balance(&format!("{field}.generate.balance"), generate.balance)?;
            }
            for (account, balance) in &shard.accounts {
                check_balance(&format!("{field}.accounts.{account}"), *balance)?;
            }
            total_accounts += shard.accounts.len() as u64 + shard.generate.map_or(0, |generate| generate.count);
            if total_accounts > limits::ACCOUNTS {
                return Err(invalid(
                    "topology.shards",
                    format!("more than the limit of {} accounts in all", limits::ACCOUNTS),
                ));
            }
            let accounts = self.shard_accounts(index);
            let (Some(first), Some(last)) = (accounts.keys().next(), accounts.keys().next_back()) else {
                return Err(invalid(field, "a shard needs at least one account"));
            };
            ranges.push((*first, *last, index));
        }
        commitlab_protocol::vec_map::sort_small_by_key(&mut ranges, |range| *range);
        for pair in ranges.windows(2) {
            let ((_, last, left), (first, _, right)) = (pair[0], pair[1]);
            if first <= last {
                return Err(invalid(
                    "topology.shards",
                    format!(
                        "the account ranges of C{} and C{} overlap: shards are partitioned by account id range",
                        left + 1,
                        right + 1
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_replication(&self) -> Result<(), ScenarioError> {
        let replication = &self.replication;
        if !replication.is_replicated() {
            return Ok(());
        }
        if ![3, 5].contains(&replication.replicas) {
            let why = match replication.replicas {
                0 => "a group needs replicas".to_string(),
                count if count % 2 == 0 => {
                    format!("{count} is even: a group of {count} tolerates no more failures than one of {}", count - 1)
                }
                count => format!("{count} is not supported"),
            };
            return Err(invalid("replication.replicas", format!("{why}; use 3 or 5")));
        }
        let (min, max) = (replication.election_timeout_ms_min, replication.election_timeout_ms_max);
        if min == 0 || max > limits::LATENCY_MS {
            return Err(invalid(
                "replication.election_timeout_ms_min",
                format!("the election timeout range must lie between 1 and {} ms", limits::LATENCY_MS),
            ));
        }
        if min > max {
            return Err(invalid(
                "replication.election_timeout_ms_min",
                format!("{min} is more than election_timeout_ms_max {max}: the range is upside down"),
            ));
        }
        if !(1..=limits::ENTRIES_PER_MESSAGE).contains(&replication.entries_per_message) {
            return Err(invalid(
                "replication.entries_per_message",
                format!("{} must be between 1 and {}", replication.entries_per_message, limits::ENTRIES_PER_MESSAGE),
            ));
        }
        let heartbeat = replication.heartbeat_ms;
        if heartbeat == 0 || heartbeat >= min {
            return Err(invalid(
                "replication.heartbeat_ms",
                format!("{heartbeat} must be at least 1 and less than election_timeout_ms_min {min}: a leader must be heard before followers give up on it"),
            ));
        }
        Ok(())
    }

    fn validate_workload(&self) -> Result<(), ScenarioError> {
        let directory = self.directory();
        let requests = &self.workload.requests;
        let random_count = self.workload.random.map_or(0, |random| random.count);
        if requests.len() + random_count > limits::REQUESTS {
            return Err(invalid(
                "workload",
                format!("{} requests is more than the limit of {}", requests.len() + random_count, limits::REQUESTS),
            ));
        }
        for (index, request) in requests.iter().enumerate() {
            let field = format!("workload.requests[{index}]");
            if request.at_ms > limits::TIME_MS {
                return Err(invalid(format!("{field}.at_ms"), format!("must be at most {}", limits::TIME_MS)));
            }
            if request.transfers.is_empty() || request.transfers.len() > limits::TRANSFERS_PER_REQUEST {
                return Err(invalid(
                    format!("{field}.transfers"),
                    format!("a request needs 1 to {} transfers", limits::TRANSFERS_PER_REQUEST),
                ));
            }
            for (position, transfer) in request.transfers.iter().enumerate() {
                let field = format!("{field}.transfers[{position}]");
                for (name, account) in [("from", transfer.from), ("to", transfer.to)] {
                    let known = directory
                        .shard_of(account)
                        .is_some_and(|entry| self.shard_accounts(entry.shard.0 as usize).contains_key(&account));
                    if !known {
                        return Err(invalid(format!("{field}.{name}"), format!("unknown account {account}")));
                    }
                }
                if transfer.amount == 0 || transfer.amount > limits::AMOUNT {
                    return Err(invalid(
                        format!("{field}.amount"),
                        format!("must be between 1 and {}", limits::AMOUNT),
                    ));
                }
            }
            for (position, shard) in request.journal.iter().enumerate() {
                if shard.0 as usize >= self.topology.shards.len() {
                    return Err(invalid(format!("{field}.journal[{position}]"), format!("unknown shard {shard}")));
                }
            }
        }
        self.validate_request_ids()?;
        if self.replication.is_replicated() {
            let saga = requests
                .iter()
                .position(|request| request.saga)
                .map(|index| format!("workload.requests[{index}].saga"));
            let random =
                self.workload.random.is_some_and(|random| random.saga).then(|| "workload.random.saga".to_string());
            if let Some(field) = saga.or(random) {
                return Err(invalid(
                    field,
                    "sagas run with single-node coordinators and shards: set replication to none, or run it as 2PC",
                ));
            }
        }
        if let Some(random) = self.workload.random {
            if random.amount_max == 0 || random.amount_max > limits::AMOUNT {
                return Err(invalid("workload.random.amount_max", format!("must be between 1 and {}", limits::AMOUNT)));
            }
            if random.interval_ms > limits::TIME_MS || random.start_ms > limits::TIME_MS {
                return Err(invalid("workload.random", format!("times must be at most {}", limits::TIME_MS)));
            }
            let accounts: usize = (0..self.topology.shards.len()).map(|index| self.shard_accounts(index).len()).sum();
            if random.count > 0 && accounts < 2 {
                return Err(invalid("workload.random", "random transfers need at least two accounts"));
            }
        }
        Ok(())
    }

    /// In the replicated mode a transaction is named after its request, so a request id sent again
    /// must be the same request (a retry), not another transaction under an old name.
    fn validate_request_ids(&self) -> Result<(), ScenarioError> {
        if !self.replication.is_replicated() {
            return Ok(());
        }
        let mut seen: VecMap<RequestId, usize> = VecMap::new();
        for (index, spec) in self.workload.requests.iter().enumerate() {
            let id = spec.request.unwrap_or(RequestId(index as u32 + 1));
            let Some(first) = seen.insert(id, index) else { continue };
            let earlier = &self.workload.requests[first];
            if (&earlier.transfers, &earlier.journal) != (&spec.transfers, &spec.journal) {
                return Err(invalid(
                    format!("workload.requests[{index}].request"),
                    format!(
                        "{id} is also requests[{first}] with other transfers: in the replicated mode a request id names one transaction"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_network(&self) -> Result<(), ScenarioError> {
        let network = &self.network;
        if network.latency_ms_min > network.latency_ms_max {
            return Err(invalid(
                "network.latency_ms_min",
                format!("{} is more than latency_ms_max {}", network.latency_ms_min, network.latency_ms_max),
            ));
        }
        if network.latency_ms_max > limits::LATENCY_MS {
            return Err(invalid(
                "network.latency_ms_max",
                format!("{} is more than {} ms", network.latency_ms_max, limits::LATENCY_MS),
            ));
        }
        Ok(())
    }

    fn validate_faults(&self) -> Result<(), ScenarioError> {
        if self.faults.len() > limits::FAULTS {
            return Err(invalid(
                "faults",
                format!("{} faults is more than the limit of {}", self.faults.len(), limits::FAULTS),
            ));
        }
        let nodes = self.node_ids();
        let known = |field: &str, node: NodeId| -> Result<(), ScenarioError> {
            if nodes.contains(&node) {
                Ok(())
            } else {
                let names: Vec<String> = nodes.iter().map(|node| node.to_string()).collect();
                Err(invalid(field, format!("there is no node {node} (nodes: {})", names.join(", "))))
            }
        };
        let known_endpoint = |field: &str, endpoint: Endpoint| match endpoint {
            Endpoint::Client => Ok(()),
            Endpoint::Node(node) => known(field, node),
        };
        for (index, scheduled) in self.faults.iter().enumerate() {
            let field = format!("faults[{index}]");
            if scheduled.at_ms > limits::TIME_MS {
                return Err(invalid(format!("{field}.at_ms"), format!("must be at most {}", limits::TIME_MS)));
            }
            let target = match &scheduled.fault {
                Fault::Crash(node) | Fault::Restart(node) => {
                    known(&format!("{field}.fault"), *node)?;
                    None
                }
                Fault::Partition(groups) => {
                    let mut seen = VecSet::new();
                    for group in groups {
                        for endpoint in group {
                            known_endpoint(&format!("{field}.fault.partition"), *endpoint)?;
                            if !seen.insert(*endpoint) {
                                return Err(invalid(
                                    format!("{field}.fault.partition"),
                                    format!("{endpoint} is in two groups"),
                                ));
                            }
                        }
                    }
                    if groups.len() < 2 {
                        return Err(invalid(
                            format!("{field}.fault.partition"),
                            "a partition needs at least two groups",
                        ));
                    }
                    None
                }
                Fault::Heal => None,
                Fault::Drop(target) | Fault::Duplicate(target) => Some(target),
                Fault::Delay { message, by_ms } => {
                    if *by_ms == 0 || *by_ms > limits::LATENCY_MS {
                        return Err(invalid(
                            format!("{field}.fault.delay.by_ms"),
                            format!("must be between 1 and {}", limits::LATENCY_MS),
                        ));
                    }
                    Some(message)
                }
            };
            if let Some(MessageTarget::Next(filter)) = target {
                for endpoint in [filter.from, filter.to].into_iter().flatten() {
                    known_endpoint(&format!("{field}.fault"), endpoint)?;
                }
                if let Some(kind) = &filter.kind {
                    if !MESSAGE_KINDS.contains(&kind.as_str()) {
                        return Err(invalid(
                            format!("{field}.fault"),
                            format!("unknown message kind {kind:?} (kinds: {})", MESSAGE_KINDS.join(", ")),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

fn check_balance(field: &str, balance: i64) -> Result<(), ScenarioError> {
    if !(0..=limits::BALANCE).contains(&balance) {
        return Err(invalid(field, format!("balance {balance} must be between 0 and {}", limits::BALANCE)));
    }
    Ok(())
}
