//! The scenario editor's form: the common fields of a scenario as editable text, and the way back
//! to a validated scenario. Everything the form does not show (faults, bugs, the random workload)
//! is kept from the scenario it was opened on. Pure data, no Yew.

use commitlab_protocol::{AccountId, Bugs, ShardId, Transfer};
use commitlab_sim::scenario::{RequestSpec, ShardSpec};
use commitlab_sim::{CoordinatorPlacement, Ratio, Scenario};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestDraft {
    pub at_ms: String,
    pub from: String,
    pub to: String,
    pub amount: String,
    /// A shard that journals the transaction (`C3`), or empty.
    pub journal: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormDraft {
    pub dedicated: bool,
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
    /// The teaching bugs, switched on or off.
    pub bugs: Bugs,
}

/// The teaching bugs the form offers, with what each breaks.
pub const BUG_SWITCHES: [(&str, &str); 4] = [
    ("vote_before_wal", "participants vote YES before the prepare record is durable"),
    ("decide_before_log", "the coordinator sends its decision before logging it"),
    ("ignore_locks", "participants prepare without taking locks"),
    ("commit_on_vote_timeout", "the coordinator commits when votes are missing"),
];

/// Which field an edit changes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Field {
    Dedicated,
    Shard(usize),
    RequestAt(usize),
    RequestFrom(usize),
    RequestTo(usize),
    RequestAmount(usize),
    RequestJournal(usize),
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
                }
            })
            .collect();
        FormDraft {
            dedicated: scenario.topology.coordinator == CoordinatorPlacement::Dedicated,
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
            bugs: scenario.bugs,
        }
    }

    pub fn set(&mut self, field: &Field, value: String) {
        match field {
            Field::Dedicated => self.dedicated = value == "dedicated",
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
            Field::Bug(index) => {
                let on = value == "true";
                match index {
                    0 => self.bugs.vote_before_wal = on,
                    1 => self.bugs.decide_before_log = on,
                    2 => self.bugs.ignore_locks = on,
                    3 => self.bugs.commit_on_vote_timeout = on,
                    _ => {}
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
        });
        self.requests.push(template);
    }

    /// The scenario the form describes, on top of `base`, or what is wrong with which field.
    pub fn to_scenario(&self, base: &Scenario) -> Result<Scenario, String> {
        let mut scenario = base.clone();
        scenario.topology.coordinator =
            if self.dedicated { CoordinatorPlacement::Dedicated } else { CoordinatorPlacement::Colocated };
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
        scenario.validate().map_err(|error| error.to_string())?;
        Ok(scenario)
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
    fn bug_switches_reach_the_scenario() {
        let scenario = happy();
        let mut draft = FormDraft::from_scenario(&scenario);
        draft.set(&Field::Bug(1), "true".to_string());
        assert!(draft.to_scenario(&scenario).expect("valid").bugs.decide_before_log);
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
