//! The scenario editor's form: the common fields of a scenario as editable text, and the way back
//! to a validated scenario. Everything the form does not show (faults, bugs, the random workload)
//! is kept from the scenario it was opened on. Pure data, no Yew.

use commitlab_protocol::{AccountId, Bugs, ShardId, Transfer, WriteMode};
use commitlab_sim::scenario::{RequestSpec, ShardSpec};
use commitlab_sim::{CoordinatorPlacement, Engine, Ratio, Scenario};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestDraft {
    pub at_ms: String,
    pub from: String,
    pub to: String,
    pub amount: String,
    /// A shard that journals the transaction (`C3`), or empty.
    pub journal: String,
    /// Run it as a saga instead of two-phase commit.
    pub saga: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormDraft {
    pub dedicated: bool,
    /// When participants' writes reach their balances: in place at PREPARE or deferred to COMMIT.
    pub writes: WriteMode,
    /// One line per shard: `1001:100 1002:100`.
    pub shards: Vec<String>,
    pub requests: Vec<RequestDraft>,
    pub latency_ms_min: String,
    pub latency_ms_max: String,
    pub loss: String,
    pub duplication: String,
    pub write_ms: String,
    pub vote_ms: String,
    pub resend_ms: String,
    pub query_ms: String,
    pub client_retry_ms: String,
    pub seed: String,
    pub end_ms: String,
    /// Replication: single nodes, Raft or Multi-Paxos groups; the fields below apply to both engines.
    pub engine: Engine,
    pub replicas: String,
    pub election_timeout_ms_min: String,
    pub election_timeout_ms_max: String,
    pub heartbeat_ms: String,
    /// The teaching bugs, switched on or off.
    pub bugs: Bugs,
}

/// The teaching bugs the form offers, with what each breaks.
pub const BUG_SWITCHES: [(&str, &str); 10] = [
    ("vote_before_wal", "participants vote YES before the prepare record is durable"),
    ("decide_before_log", "the coordinator sends its decision before logging it"),
    ("ignore_locks", "participants prepare without taking locks"),
    ("commit_on_vote_timeout", "the coordinator commits when votes are missing"),
    ("static_leader", "replicated: senders always use each group's first replica and ignore leader hints"),
    ("vote_without_log_check", "Raft: replicas grant votes without checking the candidate's log is up to date"),
    ("commit_old_term_by_count", "Raft: a leader commits an older term's entry by counting replicas (figure 8)"),
    ("commit_before_quorum", "Multi-Paxos: the leader sends COMMIT before a majority accepted"),
    ("update_in_place", "Multi-Paxos: a decision changes the prepare's entry in place, without an ACCEPT round"),
    ("reply_before_log", "the coordinator answers the client before its decision is durable"),
];

/// The switch of `BUG_SWITCHES` at `index`.
fn bug_switch(bugs: &mut Bugs, index: usize) -> Option<&mut bool> {
    match index {
        0 => Some(&mut bugs.vote_before_wal),
        1 => Some(&mut bugs.decide_before_log),
        2 => Some(&mut bugs.ignore_locks),
        3 => Some(&mut bugs.commit_on_vote_timeout),
        4 => Some(&mut bugs.static_leader),
        5 => Some(&mut bugs.vote_without_log_check),
        6 => Some(&mut bugs.commit_old_term_by_count),
        7 => Some(&mut bugs.commit_before_quorum),
        8 => Some(&mut bugs.update_in_place),
        9 => Some(&mut bugs.reply_before_log),
        _ => None,
    }
}

/// Whether the switch of `BUG_SWITCHES` at `index` is on.
pub fn bug_on(bugs: &Bugs, index: usize) -> bool {
    let mut bugs = *bugs;
    bug_switch(&mut bugs, index).is_some_and(|on| *on)
}

/// Which field an edit changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    Dedicated,
    /// "in_place" or "deferred".
    Writes,
    Shard(usize),
    RequestAt(usize),
    RequestFrom(usize),
    RequestTo(usize),
    RequestAmount(usize),
    RequestJournal(usize),
    RequestSaga(usize),
    LatencyMin,
    LatencyMax,
    Loss,
    Duplication,
    WriteMs,
    VoteMs,
    ResendMs,
    QueryMs,
    ClientRetryMs,
    Seed,
    EndMs,
    /// "raft" or "none".
    Engine,
    Replicas,
    ElectionTimeoutMin,
    ElectionTimeoutMax,
    Heartbeat,
    /// One of `BUG_SWITCHES`, by position; the value is "true" or "false".
    Bug(usize),
}

impl FormDraft {
    pub fn from_scenario(scenario: &Scenario) -> FormDraft {
        let shards = (0..scenario.topology.shards.len())
            .map(|index| {
                let accounts: Vec<String> = scenario
                    .shard_accounts(index)
                    .iter()
                    .map(|(account, balance)| format!("{account}:{balance}"))
                    .collect();
                accounts.join(" ")
            })
            .collect();
        let requests = scenario
            .workload
            .requests
            .iter()
            .map(|request| {
                let first = request.transfers.first();
                RequestDraft {
                    at_ms: request.at_ms.to_string(),
                    from: first.map(|transfer| transfer.from.to_string()).unwrap_or_default(),
                    to: first.map(|transfer| transfer.to.to_string()).unwrap_or_default(),
                    amount: first.map(|transfer| transfer.amount.to_string()).unwrap_or_default(),
                    journal: request.journal.first().map(ShardId::to_string).unwrap_or_default(),
                    saga: request.saga,
                }
            })
            .collect();
        FormDraft {
            dedicated: scenario.topology.coordinator == CoordinatorPlacement::Dedicated,
            writes: scenario.writes,
            shards,
            requests,
            latency_ms_min: scenario.network.latency_ms_min.to_string(),
            latency_ms_max: scenario.network.latency_ms_max.to_string(),
            loss: scenario.network.loss.to_string(),
            duplication: scenario.network.duplication.to_string(),
            write_ms: scenario.disk.write_ms.to_string(),
            vote_ms: scenario.timeouts.vote_ms.to_string(),
            resend_ms: scenario.timeouts.resend_ms.to_string(),
            query_ms: scenario.timeouts.query_ms.to_string(),
            client_retry_ms: scenario.timeouts.client_retry_ms.to_string(),
            seed: scenario.seed.to_string(),
            end_ms: scenario.end_ms.to_string(),
            engine: scenario.replication.engine,
            replicas: scenario.replication.replicas.to_string(),
            election_timeout_ms_min: scenario.replication.election_timeout_ms_min.to_string(),
            election_timeout_ms_max: scenario.replication.election_timeout_ms_max.to_string(),
            heartbeat_ms: scenario.replication.heartbeat_ms.to_string(),
            bugs: scenario.bugs,
        }
    }

    pub fn set(&mut self, field: &Field, value: String) {
        match field {
            Field::Dedicated => self.dedicated = value == "dedicated",
            Field::Writes => {
                self.writes = if value == WriteMode::Deferred.name() { WriteMode::Deferred } else { WriteMode::InPlace }
            }
            Field::Shard(index) => {
                if let Some(shard) = self.shards.get_mut(*index) {
                    *shard = value;
                }
            }
            Field::RequestAt(index)
            | Field::RequestFrom(index)
            | Field::RequestTo(index)
            | Field::RequestAmount(index)
            | Field::RequestJournal(index) => {
                let Some(draft) = self.requests.get_mut(*index) else { return };
                let slot = match field {
                    Field::RequestAt(_) => &mut draft.at_ms,
                    Field::RequestFrom(_) => &mut draft.from,
                    Field::RequestTo(_) => &mut draft.to,
                    Field::RequestAmount(_) => &mut draft.amount,
                    _ => &mut draft.journal,
                };
                *slot = value;
            }
            Field::RequestSaga(index) => {
                if let Some(draft) = self.requests.get_mut(*index) {
                    draft.saga = value == "true";
                }
            }
            Field::LatencyMin => self.latency_ms_min = value,
            Field::LatencyMax => self.latency_ms_max = value,
            Field::Loss => self.loss = value,
            Field::Duplication => self.duplication = value,
            Field::WriteMs => self.write_ms = value,
            Field::VoteMs => self.vote_ms = value,
            Field::ResendMs => self.resend_ms = value,
            Field::QueryMs => self.query_ms = value,
            Field::ClientRetryMs => self.client_retry_ms = value,
            Field::Seed => self.seed = value,
            Field::EndMs => self.end_ms = value,
            Field::Engine => {
                self.engine = match value.as_str() {
                    "raft" => Engine::Raft,
                    "multi-paxos" => Engine::MultiPaxos,
                    _ => Engine::None,
                }
            }
            Field::Replicas => self.replicas = value,
            Field::ElectionTimeoutMin => self.election_timeout_ms_min = value,
            Field::ElectionTimeoutMax => self.election_timeout_ms_max = value,
            Field::Heartbeat => self.heartbeat_ms = value,
            Field::Bug(index) => {
                if let Some(switch) = bug_switch(&mut self.bugs, *index) {
                    *switch = value == "true";
                }
            }
        }
    }

    pub fn add_shard(&mut self) {
        let next = (self.shards.len() as u64 + 1) * 2000 - 999;
        self.shards.push(format!("{next}:100"));
    }

    pub fn add_request(&mut self) {
        let template = self.requests.last().cloned().unwrap_or(RequestDraft {
            at_ms: "0".to_string(),
            from: String::new(),
            to: String::new(),
            amount: "10".to_string(),
            journal: String::new(),
            saga: false,
        });
        self.requests.push(template);
    }

    /// The scenario the form describes, on top of `base`, or what is wrong with which field.
    pub fn to_scenario(&self, base: &Scenario) -> Result<Scenario, String> {
        let mut scenario = base.clone();
        scenario.topology.coordinator =
            if self.dedicated { CoordinatorPlacement::Dedicated } else { CoordinatorPlacement::Colocated };
        scenario.writes = self.writes;
        scenario.topology.shards =
            self.shards.iter().enumerate().map(|(index, line)| parse_shard(index, line)).collect::<Result<_, _>>()?;
        scenario.workload.requests = self
            .requests
            .iter()
            .enumerate()
            .map(|(index, draft)| parse_request(index, draft))
            .collect::<Result<_, _>>()?;
        scenario.network.latency_ms_min = number("network latency min (ms)", &self.latency_ms_min)?;
        scenario.network.latency_ms_max = number("network latency max (ms)", &self.latency_ms_max)?;
        scenario.network.loss = ratio("network loss", &self.loss)?;
        scenario.network.duplication = ratio("network duplication", &self.duplication)?;
        scenario.disk.write_ms = number("WAL write (ms)", &self.write_ms)?;
        scenario.timeouts.vote_ms = number("vote timeout (ms)", &self.vote_ms)?;
        scenario.timeouts.resend_ms = number("resend timeout (ms)", &self.resend_ms)?;
        scenario.timeouts.query_ms = number("query timeout (ms)", &self.query_ms)?;
        scenario.timeouts.client_retry_ms = number("client retry (ms)", &self.client_retry_ms)?;
        scenario.seed = number("seed", &self.seed)?;
        scenario.end_ms = number("end (ms)", &self.end_ms)?;
        scenario.bugs = self.bugs;
        self.replication_into(&mut scenario)?;
        scenario.validate().map_err(|error| error.to_string())?;
        Ok(scenario)
    }
}

impl FormDraft {
    /// The replication fields; with single nodes the consensus settings are kept as they were.
    fn replication_into(&self, scenario: &mut Scenario) -> Result<(), String> {
        let replication = &mut scenario.replication;
        replication.engine = self.engine;
        if self.engine == Engine::None {
            return Ok(());
        }
        replication.replicas = number("replication.replicas", &self.replicas)?;
        replication.election_timeout_ms_min =
            number("replication.election_timeout_ms_min", &self.election_timeout_ms_min)?;
        replication.election_timeout_ms_max =
            number("replication.election_timeout_ms_max", &self.election_timeout_ms_max)?;
        replication.heartbeat_ms = number("replication.heartbeat_ms", &self.heartbeat_ms)?;
        Ok(())
    }
}

fn number<T: std::str::FromStr>(field: &str, text: &str) -> Result<T, String> {
    text.trim().parse().map_err(|_| format!("{field}: `{text}` is not a whole number"))
}

fn ratio(field: &str, text: &str) -> Result<Ratio, String> {
    Ratio::parse(text.trim()).map_err(|reason| format!("{field}: {reason}"))
}

fn parse_shard(index: usize, line: &str) -> Result<ShardSpec, String> {
    let field = format!("shard C{} accounts", index + 1);
    let mut spec = ShardSpec::default();
    for pair in line.split([' ', ',']).filter(|pair| !pair.is_empty()) {
        let (account, balance) =
            pair.split_once(':').ok_or_else(|| format!("{field}: `{pair}` is not account:balance, as in 1001:100"))?;
        let account: u64 = number(&field, account)?;
        let balance: i64 = number(&field, balance)?;
        spec.accounts.insert(AccountId(account), balance);
    }
    Ok(spec)
}

fn parse_request(index: usize, draft: &RequestDraft) -> Result<RequestSpec, String> {
    let field = format!("request {}", index + 1);
    let transfer = Transfer {
        from: AccountId(number(&format!("{field} from"), &draft.from)?),
        to: AccountId(number(&format!("{field} to"), &draft.to)?),
        amount: number(&format!("{field} amount"), &draft.amount)?,
    };
    let journal = match draft.journal.trim() {
        "" => Vec::new(),
        shard => vec![shard.parse::<ShardId>().map_err(|error| format!("{field} journal: {error}"))?],
    };
    Ok(RequestSpec {
        at_ms: number(&format!("{field} at (ms)"), &draft.at_ms)?,
        request: None,
        transfers: vec![transfer],
        journal,
        saga: draft.saga,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn happy() -> Scenario {
        (commitlab_sim::preset("happy-path").expect("preset").build)()
    }

    #[test]
    fn a_form_opened_on_a_scenario_gives_it_back() {
        let scenario = happy();
        let draft = FormDraft::from_scenario(&scenario);
        assert_eq!(draft.shards[0], "1001:100 1002:100");
        assert_eq!(draft.to_scenario(&scenario), Ok(scenario));
    }

    #[test]
    fn the_saga_switch_reaches_the_request_and_comes_back() {
        let scenario = happy();
        let mut draft = FormDraft::from_scenario(&scenario);
        draft.set(&Field::RequestSaga(0), "true".to_string());
        let saga = draft.to_scenario(&scenario).expect("valid");
        assert!(saga.workload.requests[0].saga && saga.runs_sagas());
        assert!(FormDraft::from_scenario(&saga).requests[0].saga, "the form shows it again");
        draft.set(&Field::RequestSaga(0), "false".to_string());
        assert!(!draft.to_scenario(&scenario).expect("valid").workload.requests[0].saga);
    }

    #[test]
    fn bug_switches_reach_the_scenario() {
        let scenario = happy();
        let mut draft = FormDraft::from_scenario(&scenario);
        draft.set(&Field::Bug(1), "true".to_string());
        assert!(draft.to_scenario(&scenario).expect("valid").bugs.decide_before_log);
    }

    #[test]
    fn replication_and_its_bugs_reach_the_scenario_and_bad_values_name_their_field() {
        let scenario = happy();
        let mut draft = FormDraft::from_scenario(&scenario);
        draft.set(&Field::Engine, "raft".to_string());
        draft.set(&Field::Replicas, "5".to_string());
        draft.set(&Field::Bug(5), "true".to_string());
        let replicated = draft.to_scenario(&scenario).expect("valid");
        assert_eq!(replicated.replication.engine, Engine::Raft);
        assert_eq!(replicated.replication.replicas, 5);
        assert!(replicated.bugs.vote_without_log_check);
        assert_eq!(FormDraft::from_scenario(&replicated), draft);
        draft.set(&Field::Replicas, "4".to_string());
        assert!(draft.to_scenario(&scenario).unwrap_err().contains("replication.replicas"));
        draft.set(&Field::Replicas, "3".to_string());
        draft.set(&Field::Heartbeat, "500".to_string());
        assert!(draft.to_scenario(&scenario).unwrap_err().contains("replication.heartbeat_ms"));
        draft.set(&Field::Engine, "multi-paxos".to_string());
        draft.set(&Field::Heartbeat, "50".to_string());
        draft.set(&Field::Bug(8), "true".to_string());
        let paxos = draft.to_scenario(&scenario).expect("valid");
        assert_eq!(paxos.replication.engine, Engine::MultiPaxos);
        assert!(paxos.bugs.update_in_place);
        draft.set(&Field::Engine, "none".to_string());
        assert_eq!(draft.to_scenario(&scenario).expect("valid").replication.engine, Engine::None);
    }

    #[test]
    fn the_write_mode_reaches_the_scenario_and_comes_back() {
        let scenario = happy();
        let mut draft = FormDraft::from_scenario(&scenario);
        assert_eq!(draft.writes, WriteMode::InPlace);
        draft.set(&Field::Writes, "deferred".to_string());
        let deferred = draft.to_scenario(&scenario).expect("valid");
        assert_eq!(deferred.writes, WriteMode::Deferred);
        assert_eq!(FormDraft::from_scenario(&deferred), draft);
        draft.set(&Field::Writes, "in_place".to_string());
        assert_eq!(draft.to_scenario(&scenario), Ok(scenario), "back to in place: the scenario as it was");
    }

    #[test]
    fn errors_name_the_field() {
        let scenario = happy();
        let mut draft = FormDraft::from_scenario(&scenario);
        draft.set(&Field::RequestAmount(0), "ten".to_string());
        assert_eq!(draft.to_scenario(&scenario), Err("request 1 amount: `ten` is not a whole number".to_string()));
        draft.set(&Field::RequestAmount(0), "10".to_string());
        draft.set(&Field::Shard(1), "3001=50".to_string());
        assert!(draft.to_scenario(&scenario).unwrap_err().starts_with("shard C2 accounts: `3001=50`"));
        draft.set(&Field::Shard(1), "3001:50".to_string());
        draft.set(&Field::RequestTo(0), "9999".to_string());
        assert!(draft.to_scenario(&scenario).unwrap_err().contains("unknown account 9999"));
    }
}
