//! The preset scenarios, each taken from a situation the seeds describe, with a paragraph that
//! says what it shows and what to watch for.

use crate::fault::{Fault, MessageFilter, MessageTarget, ScheduledFault};
use crate::scenario::{
    CoordinatorPlacement, Disk, Engine, Network, RandomWorkload, Replication, RequestSpec, Scenario, ShardSpec,
    Topology, Workload,
};
use commitlab_protocol::{AccountId, Bugs, Endpoint, Millis, NodeId, Revision, ShardId, Timeouts, Transfer, WriteMode};

pub struct Preset {
    pub name: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub build: fn() -> Scenario,
}

/// The preset the playground opens on: seed 002's cross-shard transfer 1001 -> 3001, amount 10.
pub const DEFAULT_PRESET: &str = "happy-path";

pub static PRESETS: &[Preset] = &[
    Preset {
        name: "happy-path",
        title: "Happy path: 1001 -> 3001, amount 10",
        summary: "Seed 002's cross-shard transfer. The client asks n1 (cluster C1, which holds the sender 1001) \
to move 10 to account 3001 on C2. n1 coordinates and also takes part: it logs Prepared(t1, n1, n4), then both \
shards lock their account, write a prepare record with the undo image ({1001: 100}, {3001: 50}) and vote YES. n1 \
logs Commit(t1), the point of no return, and only then sends COMMIT; each shard releases its lock and \
acknowledges, and n1 logs Completed(t1). Watch the balances end at 90 and 60, and C3 never take part.",
        build: happy_path,
    },
    Preset {
        name: "vote-no",
        title: "A participant votes NO (insufficient funds)",
        summary:
            "A transaction manager (TM) moves 80 from 3001, which holds only 50. C2 cannot guarantee the commit, so it \
votes NO without locking or logging anything: a participant that has not voted YES may abort on its own. \
C1 votes YES and holds its lock on 1001 until the decision reaches it. One NO is enough: the TM logs \
Aborted(t1) and sends ABORT, C1 restores its undo image and releases the lock, and the client hears why.",
        build: vote_no,
    },
    Preset {
        name: "lock-conflict",
        title: "Lock conflict between two concurrent transfers",
        summary:
            "Two transfers into account 3001 start one millisecond apart. Whichever PREPARE reaches C2 first takes the \
lock on 3001 (here t2's: its message is faster); the other finds it held and, since locks are no-wait, C2 \
votes NO at once. That transaction aborts while the other commits. Watch the lock marks on n4's lane and \
the NO vote's reason.",
        build: lock_conflict,
    },
    Preset {
        name: "participant-crash-before-vote",
        title: "A participant crashes before voting",
        summary: "C2 (n4) crashes while the PREPARE is on its way, so the message is lost and no vote comes. When \
the vote timeout fires the TM aborts, which it may: nobody can have committed. It keeps resending ABORT to n4; \
when n4 restarts it has no prepare record for t1 and simply acknowledges.",
        build: participant_crash_before_vote,
    },
    Preset {
        name: "participant-crash-after-yes",
        title: "A participant crashes after voting YES",
        summary: "C2 (n4) votes YES and crashes. Its vote still arrives, so the TM commits and keeps resending \
COMMIT to the dead node. When n4 restarts it rebuilds balance 60, the lock on 3001 and its in-doubt entry from \
the prepare record in its WAL, asks the TM for the outcome, commits, and acknowledges.",
        build: participant_crash_after_yes,
    },
    Preset {
        name: "coordinator-crash-before-prepare",
        title: "The coordinator crashes before PREPARE",
        summary: "The TM crashes just after the request arrives, before it has logged or sent anything. No \
participant has heard of the transaction, so nothing is locked and nobody waits. The client gets no reply and \
retries the same request id; once the TM is back, the retry runs as a fresh transaction and commits.",
        build: coordinator_crash_before_prepare,
    },
    Preset {
        name: "coordinator-crash-after-prepare",
        title: "The coordinator crashes after PREPARE: participants block",
        summary: "The blocking problem. The TM sends PREPARE and crashes. Both participants vote YES, and from \
then on they can neither commit nor abort on their own: they sit in doubt, holding the locks on 1001 and 3001, \
asking the dead coordinator for the outcome again and again. Watch the in-doubt time grow. When the TM finally \
restarts it finds Prepared(t1) but no decision in its log, aborts (presumed abort), and the participants roll back.",
        build: coordinator_crash_after_prepare,
    },
    Preset {
        name: "coordinator-crash-after-commit",
        title: "The coordinator crashes after logging COMMIT",
        summary: "The TM logs Commit(t1), sends COMMIT and crashes at once. The participants commit and their \
ACKs reach a dead node. On restart the TM reads Commit(t1) without Completed(t1) in its log, so it resends COMMIT; \
the participants, which already committed, acknowledge again and the TM logs Completed(t1). The decision \
survived the crash because it was logged before anyone heard of it.",
        build: coordinator_crash_after_commit,
    },
    Preset {
        name: "lost-commit",
        title: "A lost COMMIT message",
        summary: "The COMMIT for C2 is lost on the network. C2 stays in doubt with 3001 locked while C1 has \
already committed. After the resend timeout the coordinator sends COMMIT again (it must retry until every \
participant acknowledges) and the transaction completes.",
        build: lost_commit,
    },
    Preset {
        name: "partition-during-voting",
        title: "A network partition during voting",
        summary: "A partition cuts C2 off from the TM while the votes are travelling: C2's YES is lost. The TM \
cannot tell a partition from a crash; at the vote timeout it aborts. C2, having voted YES, is in doubt and its \
queries are lost too. When the partition heals, the resent ABORT gets through and C2 rolls back.",
        build: partition_during_voting,
    },
    Preset {
        name: "three-participants",
        title: "Three participants: a transfer plus a log database",
        summary: "Seed 004's request: transfer $100 from account A (database 1) to account B (database 2), and log \
the transfer on database 3. A transaction manager runs two-phase commit across all three; the log database \
votes like the others and writes its journal line only on COMMIT. Either all three change, or none.",
        build: three_participants,
    },
    Preset {
        name: "deferred-writes",
        title: "Deferred writes: resources locked but not changed (seed 004)",
        summary: "Seed 004's transfer ($100 from A = 1001 to B = 3001, logged on database 3) with writes deferred (\"writes\": \"deferred\"): at PREPARE each database checks its constraints and takes its locks but changes nothing; its prepare record is a redo record (PrepareVote(t1, redo 3001: 200->300)). Only COMMIT applies it: watch the balance change after Committed(t1) is logged, not at PREPARE. The COMMIT to C2 is lost, so C2 stays in doubt until the TM resends it: its table shows 3001 still at 200, with 300 pending at COMMIT. 200 is the committed value, yet nobody may use it: t2 (3001 -> 1001, 50) needs 3001 meanwhile, finds it locked by t1 and gets NO, as it would with writes in place. C1, which voted YES on t2, rolls back without touching 1001: a deferred abort has nothing to undo.",
        build: deferred_writes,
    },
    Preset {
        name: "duplicate-request",
        title: "A duplicate request answered from the cache",
        summary: "The reply to the client is lost, so the client sends the same request (same id, r1) again. The \
coordinator recognises the duplicate and answers from its cached result instead of running the transfer twice: \
1001 is debited once.",
        build: duplicate_request,
    },
    Preset {
        name: "busy",
        title: "Busy: 300 concurrent transfers with contention",
        summary: "Three shards of eight accounts each and 300 random transfers, one every 4 ms: with each \
transaction holding its locks for tens of milliseconds, many run concurrently and collide, and over 40% of them \
abort on a NO vote. Every shard coordinates the transfers its accounts send. The invariants hold throughout: \
money is conserved and no transaction is half-committed.",
        build: busy,
    },
    Preset {
        name: "bug-vote-before-wal",
        title: "Bug: vote YES before the WAL write",
        summary:
            "A teaching bug: participants vote YES before their prepare record is durable. C2 votes YES and crashes \
before the record reaches the disk; its YES is already on the wire, so the TM commits. On restart C2 has \
no trace of t1: its credit of 3001 is gone while C1's debit is committed, and 10 has vanished from the \
bank. The wal-before-yes and conservation invariants catch it.",
        build: bug_vote_before_wal,
    },
    Preset {
        name: "bug-commit-before-log",
        title: "Bug: send COMMIT before logging it",
        summary:
            "A teaching bug: the coordinator sends COMMIT before the decision record is durable, then crashes before \
the record is written. Both shards commit, but the TM's log holds no decision, so on restart it presumes \
abort, logs Aborted(t1) and tells the client the transfer failed, while the money has moved. The \
atomicity invariant catches the participants' outcome contradicting the logged decision.",
        build: bug_commit_before_log,
    },
    Preset {
        name: "participant-crash-before-prepare-durable",
        title: "A participant crashes before its prepare record is durable",
        summary: "PREPARE reaches C2 (n4), which locks 3001, changes it in place and hands its prepare record to a slow disk (10 ms a write). It crashes 4 ms later: the record was never durable, so with it go the lock, the change and any promise. No YES was sent, since a participant votes only once its record is durable, so the TM hears nothing, aborts at the vote timeout and keeps resending ABORT. The restarted n4 finds no trace of t1 in its WAL and simply acknowledges: not voting YES is the right to abort alone.",
        build: participant_crash_before_prepare_durable,
    },
    Preset {
        name: "participant-crash-before-outcome-durable",
        title: "A participant crashes after COMMIT arrives, before its outcome is durable",
        summary: "Every shard voted YES and the TM logged Commit(t1). COMMIT reaches C2 (n4), which starts writing Committed(t1) to a slow disk and crashes 3 ms later, before the record is durable and so before any ACK. The TM keeps resending COMMIT to the dead node. On restart n4 finds only its prepare record: it is in doubt again, holding 3001, and asks the TM, which answers COMMIT; n4 commits, acknowledges, and the TM completes. An ACK before the outcome record would have let the TM forget a transaction n4 could not finish.",
        build: participant_crash_before_outcome_durable,
    },
    Preset {
        name: "coordinator-crash-during-commit-broadcast",
        title: "The coordinator crashes during the COMMIT broadcast (seed 003)",
        summary: "Seed 003's hard case. Three databases voted YES and the TM logged Commit(t1), then crashed while sending COMMIT: only C1 (n1) got it (the other two messages were lost with the sender). n1 commits and releases 1001; n4 and n7 stay in doubt, holding their locks and asking a dead TM. Nobody can decide for them: n1 knows the outcome but participants do not talk to each other in 2PC. When the TM restarts at 900 ms it finds Commit(t1) in its log and resends it; n4 and n7 commit. The data is consistent throughout, but blocked.",
        build: coordinator_crash_during_commit_broadcast,
    },
    Preset {
        name: "coordinator-crash-before-commit-durable",
        title: "The coordinator crashes before COMMIT is durable: a unanimous YES still aborts",
        summary: "Both shards voted YES and the TM starts writing Commit(t1) to a slow disk, then crashes 4 ms later. The decision was never durable, so nobody was told: on restart the TM finds Prepared(t1) and no decision, presumes abort, logs Aborted(t1) and sends ABORT. Every participant said YES and the transaction still aborts, which is correct: until the decision record is durable, COMMIT has not happened. Meanwhile both shards sat in doubt for 350 ms holding their locks.",
        build: coordinator_crash_before_commit_durable,
    },
    Preset {
        name: "lost-ack",
        title: "A lost ACK: the coordinator retries until confirmed (seed 004)",
        summary: "C2's ACK for COMMIT is lost. The TM cannot tell a lost ACK from a lost COMMIT, so it keeps t1 and resends COMMIT after the resend timeout; C2, already committed, acknowledges again, and only then does the TM log Completed(t1) and forget. Seed 004: the coordinator retries until every participant has confirmed.",
        build: lost_ack,
    },
    Preset {
        name: "vulnerability-window",
        title: "The vulnerability window: a blocked transaction's locks make another abort (seed 004)",
        summary: "Seed 004's window made concrete. t1 (1001 -> 3001) is coordinated by C1 (n1), which crashes after PREPARE: C2 (n4) votes YES and is stuck in doubt holding the lock on 3001. At 120 ms an unrelated transfer t3 (5001 -> 3001, coordinated by C3) needs 3001: n4 must vote NO (\"3001 locked by t1\") and t3 aborts, though nothing is wrong with it. Blocking is not only slow: it turns other work away until n1 returns at 1200 ms and presumes abort.",
        build: vulnerability_window,
    },
    Preset {
        name: "third-participant-votes-no",
        title: "A third participant votes NO after two voted YES (seed 004's P3)",
        summary: "Seed 004's picture with P3 still deciding: the TM sends PREPARE to three shards; C1 and C2 vote YES at once and sit in doubt holding their locks, while the PREPARE to C3 is held up 40 ms. When it arrives C3 finds too little money in 5001 and votes NO. One NO outweighs any number of YES votes: the TM logs Aborted(t1) and the two YES voters roll back their changes.",
        build: third_participant_votes_no,
    },
    Preset {
        name: "partition-during-commit",
        title: "A partition during the commit phase",
        summary: "The TM logs Commit(t1) and a partition cuts C2 off just before COMMIT reaches it. C1 commits; C2 has voted YES and is in doubt, holding 3001, its queries lost like the TM's resends. Nothing is inconsistent, only stuck. When the partition heals at 400 ms the next resent COMMIT gets through, C2 commits and acknowledges, and the TM completes.",
        build: partition_during_commit,
    },
    Preset {
        name: "abort-overtakes-prepare",
        title: "An ABORT that overtakes its PREPARE",
        summary: "The PREPARE to C2 is held up 200 ms on the network. The TM's vote timeout fires first: it aborts and sends ABORT, which reaches C2 before the PREPARE does. C2 acknowledges the ABORT of a transaction it has never seen and remembers it; when the stale PREPARE finally arrives it votes NO instead of locking 3001 for a transaction that is already over.",
        build: abort_overtakes_prepare,
    },
    Preset {
        name: "late-duplicate-prepare",
        title: "A late duplicate PREPARE",
        summary: "The network duplicates the PREPARE to C2 and holds the copy back 200 ms. The original arrives, C2 votes YES and t1 commits. When the copy arrives C2 has already committed t1: it neither prepares again nor votes, because a transaction's vote is given once. Without that memory the stale copy would lock 3001 and apply the transfer a second time.",
        build: late_duplicate_prepare,
    },
    Preset {
        name: "bug-ignore-locks",
        title: "Bug: prepare without checking or taking locks",
        summary: "A teaching bug: participants skip the lock check. Two transfers into 3001 both prepare at C2, each over the other's uncommitted change, and both commit. The exclusive-locks invariant fires the moment the second prepares: with undo images taken over each other's changes an abort would restore the wrong balance.",
        build: bug_ignore_locks,
    },
    Preset {
        name: "bug-commit-on-vote-timeout",
        title: "Bug: commit when the vote timeout fires",
        summary: "A teaching bug: the TM treats a missing vote as YES. C2 crashes before PREPARE arrives, the vote timeout fires and the TM logs COMMIT: commit-needs-all-yes and conservation fire, since C1 moved money C2 never received. When C2 restarts it has no record of t1 and refuses to acknowledge its COMMIT (protocol revision 2), so the TM resends forever and the progress check reports t1 stuck.",
        build: bug_commit_on_vote_timeout,
    },
    Preset {
        name: "bug-reply-before-log",
        title: "Bug: tell the client before the decision is durable",
        summary: "A teaching bug: the TM answers the client COMMIT as soon as every vote is in, while Commit(t1) is still being written to a slow disk, and crashes before it is durable. On restart its log holds no decision, so it presumes abort and rolls everything back; the client, told COMMIT, now hears ABORT. reply-matches-decision fires at the first reply and decision-stability when the second contradicts it.",
        build: bug_reply_before_log,
    },
    Preset {
        name: "saga-completes",
        title: "A saga that completes: seed 004's transfer as three local transactions",
        summary: "Seed 004's transfer (100 from 1001 on C1 to 3001 on C2, logged on C3) run as a saga instead of 2PC. The TM is its orchestrator: it logs Saga(t1) with the three steps, then runs them one after the other. Each step is a local transaction that commits at once: C1 debits 1001, writes its step record and answers OK; only then does C2 credit 3001, then C3 writes the journal line. The TM logs each answer before the next step, and SagaCommitted(t1) at the end. No lock is held across steps and nobody is ever in doubt, but watch the balances between steps: the 100 has left 1001 and not yet reached 3001.",
        build: saga_completes,
    },
    Preset {
        name: "saga-compensates",
        title: "A saga that compensates: a step fails, the steps done are undone in reverse",
        summary: "t1 moves 100 from 1001 to 3001 and 50 from 5002 to 1001, as a saga. C1's step (1001: -50) and C2's (3001: +100) commit; C3's step fails, 5002 holds 0. There is no ABORT to send and nothing to roll back: both earlier steps are committed. The TM logs StepFailed(t1/3) and runs the compensating transactions in reverse order, C2 first (3001: -100), then C1 (1001: +50), each a new local transaction, logged at its shard and at the TM, then SagaAborted(t1) and the client hears ABORT. Money is whole again once the compensations finish.",
        build: saga_compensates,
    },
    Preset {
        name: "saga-half-done-visible",
        title: "No isolation: another transfer spends a saga's half-done credit",
        summary: "The saga t1 of saga-compensates, with its third step held up 100 ms. Meanwhile t2, a plain 2PC transfer of 250 from 3001 to 5001, finds 300 in 3001, 100 of which is t1's credit that is not final, and commits: the isolation check fires. When t1's step fails, the compensation at C2 cannot take the 100 back, 3001 holds only 50: it waits (watch the notes) while the TM asks again every resend timeout. At 400 ms t3 brings 80 into 3001 and the compensation goes through. Sagas trade isolation for never blocking: money is conserved once the compensations finish, but others saw a state that, in the end, never happened.",
        build: saga_half_done_visible,
    },
    Preset {
        name: "saga-no-blocking",
        title: "The vulnerability window as sagas: nothing blocks",
        summary: "The workload of vulnerability-window, each transfer run as a saga. C1 (n1) orchestrates t1 and crashes at 30 ms with t1 half done; nothing is held at C2, so when t3 (5001 -> 3001, orchestrated by C3) needs 3001 at 120 ms it just runs and commits. When n1 restarts at 1200 ms it reads its saga log and resumes t1 where it stopped. Compare with vulnerability-window (the comparison vulnerability-window-2pc-vs-saga puts them side by side): there t1's locks are held for 1.2 seconds and t3 aborts.",
        build: saga_no_blocking,
    },
    Preset {
        name: "raft-seed-002",
        title: "Seed 002's picture over Raft: 1001 -> 3001 in three 3-node groups",
        summary: "Seed 002's whole picture: three clusters of three replicas, C1 = n1-n3, C2 = n4-n6, C3 = n7-n9. The first \
replica of each group campaigns at time zero and is crowned within about 40 ms; each new leader commits a no-op of \
its term before it acts. At 100 ms the client asks n1 to move 10 from 1001 to 3001. Every 2PC record now goes \
through the group's log: n1 proposes Prepared(t1) and sends PREPARE once a majority of C1 stores it; C2's leader n4 \
locks 3001 and proposes its prepare record, and votes YES only once that entry is committed. Followers apply each \
committed entry to their own copy, so n2 and n3 show 1001 = 90 and the lock, n5 and n6 show 3001 = 60: the WAL on \
every replica. The 2PC messages are the single-node ones; the replication happens inside each group. C3 only sends \
heartbeats.",
        build: raft_seed_002,
    },
    Preset {
        name: "raft-coordinator-leader-crash",
        title: "The coordinator's leader crashes after PREPARE: a new leader finishes",
        summary: "The same moment as the single-node preset where the participants block: the TM group's leader n10 sends PREPARE \
and crashes. Both shards vote YES into the void. But the TM is a group: after an election timeout n11 and n12 elect \
a new leader, which commits a no-op of its term, rebuilds the coordinator from the committed log, finds t1 still \
collecting votes, and resumes it: it sends PREPARE again, the shards answer YES again from their prepare records, \
and t1 commits. The participants were in doubt for an election plus a round trip, not until a restart.",
        build: raft_coordinator_leader_crash,
    },
    Preset {
        name: "raft-participant-leader-crash",
        title: "A participant's leader crashes after voting YES",
        summary: "C2's leader n4 votes YES and crashes. Its prepare record is a committed entry of C2's log, so n5 and n6 hold it \
too, with the lock on 3001 and the undo image. The TM commits and keeps resending COMMIT; after an election the new \
leader of C2 rebuilds its participant role from the committed log, finds t1 in doubt, votes YES again and asks the \
TM, which answers COMMIT; C2 commits through its log and acknowledges.",
        build: raft_participant_leader_crash,
    },
    Preset {
        name: "raft-leader-crash-during-commit",
        title: "The coordinator's leader crashes during the COMMIT broadcast",
        summary: "The TM group's Commit(t1) entry is committed; its leader n10 sends COMMIT to C1, the COMMIT to C2 is lost, and \
n10 crashes. C1 commits; C2 sits in doubt with 3001 locked. Seed 003's dangerous moment, but the decision lives in \
the TM group's log: the new leader rebuilds the coordinator, finds Commit(t1) without Completed(t1), resends \
COMMIT, and C2 commits.",
        build: raft_leader_crash_during_commit,
    },
    Preset {
        name: "raft-leader-discovery",
        title: "Leader discovery: the coordinator finds C2's new leader",
        summary: "C2's configured leader n4 crashes at 70 ms and n6 is elected. At 500 ms n1 coordinates a transfer to 3001 and \
sends PREPARE to C2 through its leader cache, which still says n4: no answer. After 150 ms of silence it tries the \
next member, n5, which bounces the message with NotLeader naming n6; n1 follows the hint at once and the transfer \
commits. This is the fix for seed 002's bug to fix: compare it with raft-bug-static-leader.",
        build: raft_leader_discovery,
    },
    Preset {
        name: "raft-bug-static-leader",
        title: "Bug: the coordinator always sends to the configured leader (seed 002)",
        summary: "Seed 002's bug to fix, line 80 of twopc.go: the coordinator looks up the configured leader of the receiver's \
cluster instead of the current one. C2's n4 crashed at 70 ms and n6 leads C2 now, but n1 keeps sending PREPARE to \
n4 and ignores every hint. No vote comes, the vote timeout fires, and the transfer aborts although C2 was healthy \
all along. Compare it with raft-leader-discovery, the same run with the fix.",
        build: raft_bug_static_leader,
    },
    Preset {
        name: "raft-stale-leader",
        title: "A stale leader in a minority partition commits nothing",
        summary: "At 90 ms the TM group's leader n10 is cut off from n11, n12 and the shards; the client can still reach it. The \
request reaches n10, which still believes it leads: it appends Prepared(t1) but no majority stores it, so nothing \
commits and no PREPARE goes out. Check-quorum makes n10 step down after an election timeout without answers, and \
n11 and n12 elect n11. The client's retry gives up on silent n10 and goes to the next member, n11, and t1 commits \
through it. When the partition heals, n10 learns the higher term and its uncommitted entry is replaced.",
        build: raft_stale_leader,
    },
    Preset {
        name: "raft-split-vote",
        title: "A split vote: two candidates in one term",
        summary: "C2's leader n4 crashes, and election timeouts are drawn from a narrow range (150-155 ms), so n5 and n6 time out \
within a few milliseconds of each other. Each wins the other's pre-vote, becomes a candidate, votes for itself and \
refuses the other: neither has a majority of C2's three. Both time out again and retry in the next term. Randomized \
timeouts break the tie after a few rounds (the Raft paper's section 9.3: the wider the range, the fewer split \
votes), and the transfer commits once C2 has a leader again.",
        build: raft_split_vote,
    },
    Preset {
        name: "raft-follower-crash",
        title: "A follower crash that 2PC never notices",
        summary: "C2's follower n5 crashes just as the transfer starts and restarts later. n4 and n6 are still a majority of C2, so \
every entry commits as before and the transfer commits at the same moment it would have: 2PC never notices. When n5 \
restarts it has its durable log but knows nothing committed; the leader's next heartbeat brings it up to date and \
it applies the entries it missed.",
        build: raft_follower_crash,
    },
    Preset {
        name: "raft-majority-lost",
        title: "One group loses its majority: blocking comes back",
        summary: "What replication cannot fix. C2's leader n4 votes YES and crashes together with n5. The TM commits, but C2 is \
down to n6, which can neither elect itself nor commit anything alone. C2 stays in doubt with 3001 locked until n5 \
restarts at 1.5 s, n5 and n6 elect a leader, and C2 commits. A group of three tolerates one failure, not two.",
        build: raft_majority_lost,
    },
    Preset {
        name: "raft-bug-vote-without-log-check",
        title: "Bug: vote without the up-to-date check",
        summary: "A Raft teaching bug: replicas grant votes without checking that the candidate's log is at least as up to date \
as theirs. C2's n6 is cut off while n4 and n5 commit t1's prepare record and the client hears COMMIT; then n4 \
crashes and the cut heals. n6 times out first and n5, with the bug, votes for it. n6 leads C2 without the committed \
prepare record and overwrites it with its no-op: leader-completeness and state-machine-safety catch it.",
        build: raft_bug_vote_without_log_check,
    },
    Preset {
        name: "raft-bug-commit-old-term-by-count",
        title: "Bug: commit an entry of an older term by counting replicas (Raft's figure 8)",
        summary: "A Raft teaching bug, on the Raft paper's figure 8, played in C2 as a group of five (n6-n10) \
with one entry per AppendEntries. n6, leader of term 1, appends C2's prepare record for t1 and reaches only n7. \
n6 and n7 stop; n10 wins term 2 with n8 and n9, and its no-op reaches nobody. n6 returns, wins term 3 with n8 \
and n9, and carries its term-1 prepare record to both: a majority now stores it, and with the bug n6 counts that \
as committed and applies it, although the entry is not of its own term. n6 crashes before its own no-op follows. \
n10 returns; its last entry (term 2) is newer than everyone's term-1 entry, so it wins term 4 and replaces entry \
2 on every replica: leader-completeness and state-machine-safety catch the committed entry that was lost. \
Without the bug n6 never commits entry 2, and n10 replaces only what was never committed.",
        build: raft_bug_commit_old_term_by_count,
    },
    Preset {
        name: "raft-busy",
        title: "Busy over Raft: 300 concurrent transfers in three groups",
        summary: "The busy preset's 300 random transfers among three shards of eight accounts, with every shard a Raft group of \
three. Each 2PC record costs a round trip inside its group, so transactions hold their locks longer and more of \
them collide; the consensus invariants and the 2PC invariants hold throughout.",
        build: raft_busy,
    },
    Preset {
        name: "paxos-seed-002",
        title: "Seed 002's picture over Multi-Paxos: seq 100 in C1, seq 200 in C2",
        summary: "Seed 002 exactly as drawn: three Multi-Paxos groups of three, C1 = n1-n3, C2 = n4-n6, C3 = n7-n9. Each group's \
first replica runs phase 1 (PHASE1A / PHASE1B) at time zero and leads. At 100 ms the client asks n1 to move 10 from \
1001 to 3001. C1 allocates seq 100 and runs its own Paxos round (ACCEPT seq 100 P, AcceptedReply, COMMIT) in \
parallel with PREPARE to C2; C2 allocates seq 200, locks 3001 and runs its round, and votes YES only once its value \
is chosen. Every replica executes at P: open n2's table to see seed 002's STATE AFTER PREPARE (Log[100] phase P \
executed, twoPCWAL, balance 1001 = 90, 1001 locked, PrepareSeq = 100). The decision reuses the sequence number: \
ACCEPT seq 100 C, then seq 200 C in C2, each a new chosen value that updates the row.",
        build: paxos_seed_002,
    },
    Preset {
        name: "paxos-coordinator-leader-crash",
        title: "Multi-Paxos: the coordinator's leader crashes after PREPARE",
        summary: "raft-coordinator-leader-crash over Multi-Paxos. The TM group's leader n10 sends PREPARE and crashes. \
After an election timeout another TM replica runs phase 1: its promises report the Prepared(t1) value n10's ACCEPT \
left with a majority, so the new leader chooses it again, rebuilds the coordinator from the chosen log, resumes \
collecting votes and commits t1. Phase 1 is why seed 002's recovery after a leader failure works.",
        build: paxos_coordinator_leader_crash,
    },
    Preset {
        name: "paxos-participant-leader-crash",
        title: "Multi-Paxos: a participant's leader crashes after voting YES",
        summary: "C2's leader n4 votes YES and crashes. Its prepare record at seq 200 is chosen, so n5 and n6 executed it too \
(3001 = 60, locked, twoPCWAL). The new leader of C2 finds t1 prepared, asks the TM, learns COMMIT and chooses \
seq 200 C.",
        build: paxos_participant_leader_crash,
    },
    Preset {
        name: "paxos-leader-crash-during-commit",
        title: "Multi-Paxos: the coordinator's leader crashes during the COMMIT broadcast",
        summary: "The TM's Commit(t1) is chosen at its seq; its leader n10 sends COMMIT to C1, the COMMIT to C2 is lost, and \
n10 crashes. C2 sits in doubt until the TM's new leader, whose phase 1 finds the decision chosen, resends COMMIT.",
        build: paxos_leader_crash_during_commit,
    },
    Preset {
        name: "paxos-leader-discovery",
        title: "Multi-Paxos: the coordinator finds C2's new leader",
        summary: "C2's configured leader n4 crashes at 70 ms and another replica leads C2 after phase 1. At 500 ms the \
coordinator's PREPARE goes to n4 first, then to the next member, which names the leader in NotLeader, and the \
transfer commits. Compare it with paxos-bug-static-leader.",
        build: paxos_leader_discovery,
    },
    Preset {
        name: "paxos-bug-static-leader",
        title: "Bug over Multi-Paxos: the coordinator always sends to the configured leader",
        summary: "Seed 002's bug to fix under its own engine: C2's n4 crashed at 70 ms and a new leader leads C2, but n1 keeps \
sending PREPARE to n4. No vote comes and the transfer aborts although C2 was healthy all along.",
        build: paxos_bug_static_leader,
    },
    Preset {
        name: "paxos-stale-leader",
        title: "Multi-Paxos: a stale leader in a minority partition chooses nothing",
        summary: "At 90 ms the TM group's leader n10 is cut off. The request reaches it; its ACCEPT for Prepared(t1) gets no \
majority, so nothing is chosen and no PREPARE goes out. Its lease runs out and it steps down; n11 and n12 elect a \
leader with a higher ballot, the client's retry reaches it, and t1 commits. When the cut heals, n10 promises the \
higher ballot and its unchosen value is overwritten by what the new leader chose.",
        build: paxos_stale_leader,
    },
    Preset {
        name: "paxos-follower-crash",
        title: "Multi-Paxos: a follower crash that 2PC never notices",
        summary: "C2's follower n5 crashes as the transfer starts and restarts later. n4 and n6 are still a majority, so every \
value is chosen as before. When n5 returns, the leader's heartbeat shows it behind and COMMITs fill its log.",
        build: paxos_follower_crash,
    },
    Preset {
        name: "paxos-majority-lost",
        title: "Multi-Paxos: one group loses its majority and blocking comes back",
        summary: "C2's leader n4 votes YES and crashes with n5. n6 alone can run no phase 1 and choose nothing: C2 stays in \
doubt with 3001 locked until n5 restarts at 1.5 s. A group of three tolerates one failure, not two, under any engine.",
        build: paxos_majority_lost,
    },
    Preset {
        name: "paxos-bug-commit-before-quorum",
        title: "Bug: COMMIT before a majority accepted (Multi-Paxos)",
        summary: "A Multi-Paxos teaching bug, in C2 as a group of five (n6-n10): the leader sends COMMIT together with its \
ACCEPT instead of waiting for a majority of AcceptedReplies. n8-n10 are cut off and the ACCEPT to n7 is lost; only \
the COMMIT reaches n7, which executes the prepare (3001 = 60), and n6 votes YES. n6 and n7 crash and the cut \
heals: n8-n10 are a majority that never saw the value, so their new leader's phase 1 finds the slot empty and fills \
it with a no-op. one-value-per-slot names the slot (n6 learned the prepare there, n8 a no-op) and chosen-survives \
the new leader that lacks it. C2 now holds no prepare for t1 although its YES made the coordinator commit.",
        build: paxos_bug_commit_before_quorum,
    },
    Preset {
        name: "paxos-bug-update-in-place",
        title: "Bug: change the phase at a reused sequence number in place (Multi-Paxos)",
        summary: "Seed 002 reuses the prepare's sequence number for the decision. Done right, the phase change is a new value \
chosen by its own ACCEPT round. With this bug C2's leader n4 overwrites seq 200 from P to C in its own log and \
tells the followers with a bare COMMIT, no ACCEPT, no majority (C1's leader does the same with seq 100). \
one-value-per-slot fires at once: a chosen slot changed. Then the harm: both COMMITs to n5 and n6 are lost and n4 \
crashes after acknowledging; the coordinator completes t1 and forgets it. C2's new leader has seq 200 at P, so it \
is in doubt, asks, hears the presumed ABORT and rolls back. seq-agreement catches n4's C and the new leader's A at \
seq 200, and atomicity the transfer committed in C1 and rolled back in C2. (This preset runs protocol \
revision 2, whose coordinator presumes abort for a transaction it has completed; from revision 3 it answers such a \
late query with the decision, and the harm stops at one-value-per-slot.)",
        build: paxos_bug_update_in_place,
    },
    Preset {
        name: "paxos-busy",
        title: "Busy over Multi-Paxos: 300 concurrent transfers in three groups",
        summary: "raft-busy over Multi-Paxos groups: 300 random transfers, each record a value chosen by an ACCEPT round \
in its group, each transaction with its own sequence number per group.",
        build: paxos_busy,
    },
];

/// Two runs to compare side by side on one clock: the compare view's presets.
pub struct Comparison {
    pub name: &'static str,
    pub title: &'static str,
    pub summary: &'static str,
    pub a: fn() -> Scenario,
    pub b: fn() -> Scenario,
}

/// The comparison the compare view opens on.
pub const DEFAULT_COMPARISON: &str = "seed-002-raft-vs-paxos";

pub static COMPARISONS: &[Comparison] = &[
    Comparison {
        name: "seed-002-single-vs-raft",
        title: "Seed 002's transfer: single nodes vs Raft groups",
        summary: "The same transfer at 100 ms. Single nodes: 10 messages, 3 message delays to the decision. Raft: the \
same 2PC messages plus an AppendEntries and an AppendReply per follower for each of the 7 records, and 7 delays, \
because each durable record now waits for a majority.",
        a: single_node_seed_002,
        b: raft_seed_002,
    },
    Comparison {
        name: "seed-002-raft-vs-paxos",
        title: "Seed 002's transfer: Raft vs Multi-Paxos",
        summary:
            "The same transfer over both engines. The 2PC messages and the 7 message delays are the same; Multi-Paxos \
adds a COMMIT per follower for every value (3 messages per follower and record against Raft's 2, whose commit \
index rides on the next message), and its acceptors write each value twice (accepted, then chosen). Its leaders \
act as soon as phase 1 is done, without Raft's no-op round.",
        a: raft_seed_002,
        b: paxos_seed_002,
    },
    Comparison {
        name: "seed-002-single-vs-paxos",
        title: "Seed 002's transfer: single nodes vs Multi-Paxos (seed 002's own picture)",
        summary:
            "Seed 002 drawn both ways: plain 2PC, and 2PC over Multi-Paxos groups with sequence numbers 100 and 200.",
        a: single_node_seed_002,
        b: paxos_seed_002,
    },
    Comparison {
        name: "coordinator-crash-single-vs-raft",
        title: "The coordinator crashes after PREPARE: single node vs Raft group",
        summary:
            "Left, the blocking problem: both participants wait in doubt, holding their locks, until the TM restarts \
and presumes abort. Right, the TM is a Raft group: a new leader resumes t1 and commits it after an election.",
        a: coordinator_crash_after_prepare_at_100,
        b: raft_coordinator_leader_crash,
    },
    Comparison {
        name: "coordinator-crash-raft-vs-paxos",
        title: "The coordinator's leader crashes after PREPARE: Raft vs Multi-Paxos",
        summary:
            "The TM group's leader crashes just after sending PREPARE under each engine; each recovers the Prepared \
record (Raft's leader completeness, Paxos's phase 1) and commits t1.",
        a: raft_coordinator_leader_crash,
        b: paxos_coordinator_leader_crash,
    },
    Comparison {
        name: "busy-raft-vs-paxos",
        title: "The busy workload: Raft vs Multi-Paxos",
        summary: "300 concurrent transfers over three groups under each engine: the messages, durable writes and lock \
hold times each engine costs under contention, and how many transfers abort on a lock.",
        a: raft_busy,
        b: paxos_busy,
    },
    Comparison {
        name: "bug-static-leader-on-vs-off",
        title: "Teaching bug on vs off: the coordinator always sends to the configured leader",
        summary:
            "Left with seed 002's bug, right with leader discovery: the same crash of C2's first replica aborts the \
transfer on the left and commits it on the right.",
        a: raft_bug_static_leader,
        b: raft_leader_discovery,
    },
    Comparison {
        name: "bug-update-in-place-on-vs-off",
        title: "Teaching bug on vs off: changing seq 200's phase in place",
        summary: "The same faults with and without update_in_place: with it, C2's new leader rolls back what its old \
leader committed; without it the decision is a chosen value that the new leader finds.",
        a: paxos_bug_update_in_place,
        b: paxos_update_in_place_off,
    },
    Comparison {
        name: "vulnerability-window-2pc-vs-saga",
        title: "Seed 004's vulnerability window: 2PC vs sagas on the same workload",
        summary: "The same two transfers and the same crash of C1 at 30 ms. Left, 2PC: t1 is blocked in doubt at C2, \
holding the lock on 3001 for 1.2 seconds, and t3 aborts on it. Right, sagas: t1's steps hold locks only while each \
is written, so t3 runs through 3001 and commits at once; t1 resumes from its saga log when n1 returns. Compare the \
time blocked per transaction, and the isolation check on the right.",
        a: vulnerability_window,
        b: saga_no_blocking,
    },
];

/// Finds a comparison by name.
pub fn comparison(name: &str) -> Option<&'static Comparison> {
    COMPARISONS.iter().find(|comparison| comparison.name == name)
}

/// Finds a preset by name.
pub fn preset(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|preset| preset.name == name)
}

fn accounts(pairs: &[(u64, i64)]) -> ShardSpec {
    ShardSpec {
        accounts: pairs.iter().map(|(account, balance)| (AccountId(*account), *balance)).collect(),
        generate: None,
    }
}

fn transfer(from: u64, to: u64, amount: u64) -> Transfer {
    Transfer { from: AccountId(from), to: AccountId(to), amount }
}

fn request(at_ms: Millis, transfers: Vec<Transfer>) -> RequestSpec {
    RequestSpec { at_ms, request: None, transfers, journal: Vec::new(), saga: false }
}

fn at(at_ms: Millis, fault: Fault) -> ScheduledFault {
    ScheduledFault { at_ms, fault }
}

fn next(kind: &str, from: Option<u16>, to: Option<u16>) -> MessageTarget {
    MessageTarget::Next(MessageFilter {
        from: from.map(|node| Endpoint::Node(NodeId(node))),
        to: to.map(|node| Endpoint::Node(NodeId(node))),
        kind: Some(kind.to_string()),
        txn: None,
    })
}

/// Seed 002's three clusters: C1 (1001, 1002), C2 (3001, 3002), C3 (5001, 5002).
fn seed_002_shards() -> Vec<ShardSpec> {
    vec![
        accounts(&[(1001, 100), (1002, 100)]),
        accounts(&[(3001, 50), (3002, 50)]),
        accounts(&[(5001, 100), (5002, 100)]),
    ]
}

/// The default transfer, 1001 -> 3001 amount 10, at time 0.
fn one_transfer(coordinator: CoordinatorPlacement, faults: Vec<ScheduledFault>) -> Scenario {
    Scenario {
        // Version 1: nothing in a preset needs version 2 (schedules), and their links stay as made.
        version: 1,
        name: String::new(),
        protocol: Revision::CURRENT.0,
        seed: 1,
        topology: Topology { coordinator, shards: seed_002_shards() },
        workload: Workload { requests: vec![request(0, vec![transfer(1001, 3001, 10)])], random: None },
        network: Network::default(),
        disk: Disk::default(),
        timeouts: Timeouts::default(),
        writes: WriteMode::InPlace,
        bugs: Bugs::default(),
        replication: Replication::default(),
        faults,
        schedule: Vec::new(),
        end_ms: 2_000,
        max_steps: 1_000_000,
    }
}

fn named(name: &str, mut scenario: Scenario) -> Scenario {
    scenario.name = name.to_string();
    scenario
}

// In the dedicated-coordinator presets the TM is n10 (after C1 = n1, C2 = n4, C3 = n7).
const TM: u16 = 10;

fn happy_path() -> Scenario {
    named("happy-path", one_transfer(CoordinatorPlacement::Colocated, vec![]))
}

fn vote_no() -> Scenario {
    let mut scenario = one_transfer(CoordinatorPlacement::Dedicated, vec![]);
    scenario.workload.requests = vec![request(0, vec![transfer(3001, 1001, 80)])];
    named("vote-no", scenario)
}

fn lock_conflict() -> Scenario {
    let mut scenario = one_transfer(CoordinatorPlacement::Dedicated, vec![]);
    scenario.workload.requests =
        vec![request(0, vec![transfer(1001, 3001, 10)]), request(1, vec![transfer(1002, 3001, 5)])];
    named("lock-conflict", scenario)
}

fn participant_crash_before_vote() -> Scenario {
    let faults = vec![at(20, Fault::Crash(NodeId(4))), at(400, Fault::Restart(NodeId(4)))];
    named("participant-crash-before-vote", one_transfer(CoordinatorPlacement::Dedicated, faults))
}

fn participant_crash_after_yes() -> Scenario {
    let faults = vec![at(30, Fault::Crash(NodeId(4))), at(400, Fault::Restart(NodeId(4)))];
    named("participant-crash-after-yes", one_transfer(CoordinatorPlacement::Dedicated, faults))
}

fn coordinator_crash_before_prepare() -> Scenario {
    let faults = vec![at(15, Fault::Crash(NodeId(TM))), at(300, Fault::Restart(NodeId(TM)))];
    named("coordinator-crash-before-prepare", one_transfer(CoordinatorPlacement::Dedicated, faults))
}

fn coordinator_crash_after_prepare() -> Scenario {
    let faults = vec![at(20, Fault::Crash(NodeId(TM))), at(1_500, Fault::Restart(NodeId(TM)))];
    named("coordinator-crash-after-prepare", one_transfer(CoordinatorPlacement::Dedicated, faults))
}

fn coordinator_crash_after_commit() -> Scenario {
    let faults = vec![at(45, Fault::Crash(NodeId(TM))), at(400, Fault::Restart(NodeId(TM)))];
    named("coordinator-crash-after-commit", one_transfer(CoordinatorPlacement::Dedicated, faults))
}

fn lost_commit() -> Scenario {
    let faults = vec![at(0, Fault::Drop(next("Commit", None, Some(4))))];
    named("lost-commit", one_transfer(CoordinatorPlacement::Dedicated, faults))
}

fn partition_during_voting() -> Scenario {
    let faults = vec![at(25, c2_cut_off()), at(500, Fault::Heal)];
    named("partition-during-voting", one_transfer(CoordinatorPlacement::Dedicated, faults))
}

fn three_participants() -> Scenario {
    let mut scenario = one_transfer(CoordinatorPlacement::Dedicated, vec![]);
    scenario.topology.shards = vec![accounts(&[(1001, 500)]), accounts(&[(3001, 200)]), accounts(&[(5001, 0)])];
    let mut spec = request(0, vec![transfer(1001, 3001, 100)]);
    spec.journal = vec![ShardId(2)];
    scenario.workload.requests = vec![spec];
    named("three-participants", scenario)
}

fn deferred_writes() -> Scenario {
    let mut scenario = three_participants();
    scenario.writes = WriteMode::Deferred;
    scenario.workload.requests.push(request(DEFERRED_SECOND_TRANSFER_MS, vec![transfer(3001, 1001, 50)]));
    scenario.faults = vec![at(0, Fault::Drop(next("Commit", Some(TM), Some(4))))];
    named("deferred-writes", scenario)
}

/// When t2 starts in `deferred-writes`: its PREPARE reaches C2 while t1's lost COMMIT keeps C2 in
/// doubt (read off the run).
const DEFERRED_SECOND_TRANSFER_MS: Millis = 50;

fn duplicate_request() -> Scenario {
    let faults = vec![at(0, Fault::Drop(next("Reply", Some(1), None)))];
    named("duplicate-request", one_transfer(CoordinatorPlacement::Colocated, faults))
}

fn busy() -> Scenario {
    let shards = [1001, 3001, 5001]
        .iter()
        .map(|first| accounts(&(0..8).map(|offset| (first + offset, 200)).collect::<Vec<_>>()))
        .collect();
    let mut scenario = one_transfer(CoordinatorPlacement::Colocated, vec![]);
    scenario.topology.shards = shards;
    scenario.workload = Workload {
        requests: Vec::new(),
        random: Some(RandomWorkload { count: 300, start_ms: 0, interval_ms: 4, amount_max: 30, saga: false }),
    };
    named("busy", scenario)
}

fn bug_vote_before_wal() -> Scenario {
    let faults = vec![at(26, Fault::Crash(NodeId(4))), at(300, Fault::Restart(NodeId(4)))];
    let mut scenario = one_transfer(CoordinatorPlacement::Dedicated, faults);
    scenario.bugs.vote_before_wal = true;
    scenario.disk.write_ms = 5;
    named("bug-vote-before-wal", scenario)
}

fn bug_commit_before_log() -> Scenario {
    let faults = vec![at(50, Fault::Crash(NodeId(TM))), at(300, Fault::Restart(NodeId(TM)))];
    let mut scenario = one_transfer(CoordinatorPlacement::Dedicated, faults);
    scenario.bugs.decide_before_log = true;
    scenario.disk.write_ms = 5;
    named("bug-commit-before-log", scenario)
}

// The replicated presets: seed 002's three clusters as Raft groups of three. C1 = n1-n3, C2 = n4-n6,
// C3 = n7-n9, and a dedicated transaction manager's group TM = n10-n12. The first replica of each
// group campaigns at time zero and leads within about 60 ms; the client sends at 100 ms.

/// Replicas leaders as seed 002 draws them; a vote timeout that outlasts an election, so a leader
/// change does not abort a transaction that can still commit.
fn raft(scenario: Scenario) -> Scenario {
    replicated(Engine::Raft, scenario)
}

fn replicated(engine: Engine, mut scenario: Scenario) -> Scenario {
    scenario.replication = Replication { engine, ..Replication::default() };
    scenario.timeouts = Timeouts { vote_ms: 1_000, ..Timeouts::default() };
    for request in &mut scenario.workload.requests {
        request.at_ms += 100;
    }
    scenario
}

const TM_LEADER: u16 = 10;

/// C2's n6 is cut off while n4 and n5 commit the transfer's entries; then n4 crashes and the cut is
/// healed, so n5 (complete log) and n6 (missing committed entries) race for C2's next term.
fn c2_race_after_a_cut(seed: u64) -> Scenario {
    let cut = vec![
        vec![Endpoint::Node(NodeId(6))],
        (1..=9).filter(|id| *id != 6).map(|id| Endpoint::Node(NodeId(id))).collect(),
    ];
    let faults = vec![at(90, Fault::Partition(cut)), at(400, Fault::Crash(NodeId(4))), at(400, Fault::Heal)];
    let mut scenario = raft(one_transfer(CoordinatorPlacement::Colocated, faults));
    scenario.seed = seed;
    scenario
}

/// The Raft paper's figure 8 in C2, a group of five (n6-n10), one entry per AppendEntries, the
/// times read off the run: (a) n6, leader of term 1, appends C2's prepare record and reaches only
/// n7; (b) n6 and n7 stop, n10 wins term 2 with n8 and n9 and appends a no-op that reaches nobody;
/// (c) n6 returns and wins term 3 with n8 and n9 and carries its term-1 entry to both, so a majority
/// stores it; (d) n6 crashes before its own no-op follows, n10 returns and wins term 4 (its last
/// entry, of term 2, is newer than theirs) and replaces entry 2 everywhere.
fn raft_bug_commit_old_term_by_count() -> Scenario {
    let mut scenario = raft(one_transfer(CoordinatorPlacement::Colocated, vec![]));
    scenario.topology.shards.truncate(2);
    scenario.replication.replicas = 5;
    scenario.replication.entries_per_message = 1;
    scenario.bugs.commit_old_term_by_count = true;
    let node = |id: u16| NodeId(id);
    let mut faults = Vec::new();
    for id in [8, 9, 10] {
        faults.push(at(117, Fault::Crash(node(id))));
    }
    faults.extend([at(136, Fault::Crash(node(6))), at(136, Fault::Crash(node(7)))]);
    for id in [8, 9, 10] {
        faults.push(at(136, Fault::Restart(node(id))));
    }
    for id in [8, 9, 10] {
        faults.push(at(338, Fault::Crash(node(id))));
    }
    faults.extend([
        at(360, Fault::Restart(node(8))),
        at(360, Fault::Restart(node(9))),
        at(365, Fault::Restart(node(6))),
        at(905, Fault::Crash(node(6))),
        at(911, Fault::Restart(node(10))),
    ]);
    scenario.faults = faults;
    named("raft-bug-commit-old-term-by-count", scenario)
}

fn raft_bug_vote_without_log_check() -> Scenario {
    let mut scenario = c2_race_after_a_cut(RACE_SEED);
    scenario.bugs.vote_without_log_check = true;
    named("raft-bug-vote-without-log-check", scenario)
}

fn raft_seed_002() -> Scenario {
    named("raft-seed-002", raft(one_transfer(CoordinatorPlacement::Colocated, vec![])))
}

/// Moments of the dedicated-coordinator run over each engine, read off its trace.
struct Moments {
    /// Just after the TM group's leader sends PREPARE.
    after_prepare: Millis,
    /// Just after C2's leader votes YES.
    after_yes: Millis,
    /// The TM's decision is chosen or committed and COMMIT goes out.
    during_commit: Millis,
}

fn moments(engine: Engine) -> Moments {
    match engine {
        // Raft: PREPARE at 131 ms, C2's YES at 156 ms, COMMIT at 193 ms.
        Engine::Raft | Engine::None => Moments { after_prepare: 135, after_yes: 157, during_commit: 193 },
        // Multi-Paxos: a leader acts once phase 1 is done, without a no-op round, so everything is
        // earlier: PREPARE at 113 ms, C2's YES at 143 ms, COMMIT at 172 ms.
        Engine::MultiPaxos => Moments { after_prepare: 115, after_yes: 144, during_commit: 172 },
    }
}

fn coordinator_leader_crash(engine: Engine) -> Scenario {
    let faults = vec![at(moments(engine).after_prepare, Fault::Crash(NodeId(TM_LEADER)))];
    replicated(engine, one_transfer(CoordinatorPlacement::Dedicated, faults))
}

fn participant_leader_crash(engine: Engine) -> Scenario {
    let faults = vec![at(moments(engine).after_yes, Fault::Crash(NodeId(4)))];
    replicated(engine, one_transfer(CoordinatorPlacement::Dedicated, faults))
}

fn leader_crash_during_commit(engine: Engine) -> Scenario {
    let faults = vec![
        at(0, Fault::Drop(next("Commit", Some(TM_LEADER), Some(4)))),
        at(moments(engine).during_commit, Fault::Crash(NodeId(TM_LEADER))),
    ];
    replicated(engine, one_transfer(CoordinatorPlacement::Dedicated, faults))
}

fn raft_coordinator_leader_crash() -> Scenario {
    named("raft-coordinator-leader-crash", coordinator_leader_crash(Engine::Raft))
}

fn raft_participant_leader_crash() -> Scenario {
    named("raft-participant-leader-crash", participant_leader_crash(Engine::Raft))
}

fn raft_leader_crash_during_commit() -> Scenario {
    named("raft-leader-crash-during-commit", leader_crash_during_commit(Engine::Raft))
}

/// C2's configured leader n4 has crashed and another replica leads C2 when the transfer starts.
fn after_an_election_in_c2(engine: Engine, static_leader: bool) -> Scenario {
    let faults = vec![at(70, Fault::Crash(NodeId(4)))];
    let mut scenario = replicated(engine, one_transfer(CoordinatorPlacement::Colocated, faults));
    scenario.workload.requests[0].at_ms = 500;
    scenario.bugs.static_leader = static_leader;
    scenario
}

fn raft_leader_discovery() -> Scenario {
    named("raft-leader-discovery", after_an_election_in_c2(Engine::Raft, false))
}

fn raft_bug_static_leader() -> Scenario {
    named("raft-bug-static-leader", after_an_election_in_c2(Engine::Raft, true))
}

fn stale_leader(engine: Engine) -> Scenario {
    // The client is on neither side, so it reaches both (seed 002's client talks to any node).
    let minority = vec![Endpoint::Node(NodeId(TM_LEADER))];
    let majority: Vec<Endpoint> = (1..=12).filter(|id| *id != TM_LEADER).map(|id| Endpoint::Node(NodeId(id))).collect();
    let faults = vec![at(90, Fault::Partition(vec![minority, majority])), at(900, Fault::Heal)];
    replicated(engine, one_transfer(CoordinatorPlacement::Dedicated, faults))
}

fn raft_stale_leader() -> Scenario {
    named("raft-stale-leader", stale_leader(Engine::Raft))
}

fn raft_split_vote() -> Scenario {
    let faults = vec![at(80, Fault::Crash(NodeId(4)))];
    let mut scenario = raft(one_transfer(CoordinatorPlacement::Colocated, faults));
    scenario.replication.election_timeout_ms_min = 150;
    scenario.replication.election_timeout_ms_max = 155;
    named("raft-split-vote", scenario)
}

fn follower_crash(engine: Engine) -> Scenario {
    let faults = vec![at(110, Fault::Crash(NodeId(5))), at(600, Fault::Restart(NodeId(5)))];
    replicated(engine, one_transfer(CoordinatorPlacement::Colocated, faults))
}

fn raft_follower_crash() -> Scenario {
    named("raft-follower-crash", follower_crash(Engine::Raft))
}

fn majority_lost(engine: Engine) -> Scenario {
    let after_yes = moments(engine).after_yes;
    let faults = vec![
        at(after_yes, Fault::Crash(NodeId(4))),
        at(after_yes, Fault::Crash(NodeId(5))),
        at(1_500, Fault::Restart(NodeId(5))),
    ];
    let mut scenario = replicated(engine, one_transfer(CoordinatorPlacement::Dedicated, faults));
    scenario.end_ms = 2_500;
    scenario
}

fn raft_majority_lost() -> Scenario {
    named("raft-majority-lost", majority_lost(Engine::Raft))
}

fn replicated_busy(engine: Engine) -> Scenario {
    let mut scenario = replicated(engine, busy());
    if let Some(random) = &mut scenario.workload.random {
        random.start_ms = 100;
    }
    scenario
}

fn raft_busy() -> Scenario {
    named("raft-busy", replicated_busy(Engine::Raft))
}

/// Single nodes with the request at 100 ms, as the replicated runs send it, to compare on one clock.
fn single_node_seed_002() -> Scenario {
    let mut scenario = happy_path();
    for request in &mut scenario.workload.requests {
        request.at_ms += 100;
    }
    named("single-node-seed-002", scenario)
}

fn coordinator_crash_after_prepare_at_100() -> Scenario {
    let mut scenario = coordinator_crash_after_prepare();
    for request in &mut scenario.workload.requests {
        request.at_ms += 100;
    }
    for fault in &mut scenario.faults {
        fault.at_ms += 100;
    }
    named("coordinator-crash-after-prepare-at-100", scenario)
}

fn paxos_update_in_place_off() -> Scenario {
    let mut scenario = paxos_bug_update_in_place();
    scenario.bugs.update_in_place = false;
    named("paxos-update-in-place-off", scenario)
}

// The same situations over Multi-Paxos groups, and its own two teaching bugs.

fn paxos_seed_002() -> Scenario {
    named("paxos-seed-002", replicated(Engine::MultiPaxos, one_transfer(CoordinatorPlacement::Colocated, vec![])))
}

fn paxos_coordinator_leader_crash() -> Scenario {
    named("paxos-coordinator-leader-crash", coordinator_leader_crash(Engine::MultiPaxos))
}

fn paxos_participant_leader_crash() -> Scenario {
    named("paxos-participant-leader-crash", participant_leader_crash(Engine::MultiPaxos))
}

fn paxos_leader_crash_during_commit() -> Scenario {
    named("paxos-leader-crash-during-commit", leader_crash_during_commit(Engine::MultiPaxos))
}

fn paxos_leader_discovery() -> Scenario {
    named("paxos-leader-discovery", after_an_election_in_c2(Engine::MultiPaxos, false))
}

fn paxos_bug_static_leader() -> Scenario {
    named("paxos-bug-static-leader", after_an_election_in_c2(Engine::MultiPaxos, true))
}

fn paxos_stale_leader() -> Scenario {
    named("paxos-stale-leader", stale_leader(Engine::MultiPaxos))
}

fn paxos_follower_crash() -> Scenario {
    named("paxos-follower-crash", follower_crash(Engine::MultiPaxos))
}

fn paxos_majority_lost() -> Scenario {
    named("paxos-majority-lost", majority_lost(Engine::MultiPaxos))
}

fn paxos_busy() -> Scenario {
    named("paxos-busy", replicated_busy(Engine::MultiPaxos))
}

/// C2 as a group of five (n6-n10). Its leader n6 sends COMMIT for its prepare record together with
/// the ACCEPT; n8-n10 are cut off, the ACCEPT to n7 is lost and only the COMMIT reaches it. n6 and n7
/// crash; n8-n10, a majority that never heard of the value, fill the slot with a no-op.
fn paxos_bug_commit_before_quorum() -> Scenario {
    let mut scenario = replicated(Engine::MultiPaxos, one_transfer(CoordinatorPlacement::Colocated, vec![]));
    scenario.topology.shards.truncate(2);
    scenario.replication.replicas = 5;
    scenario.bugs.commit_before_quorum = true;
    let cut_off: Vec<Endpoint> = (8..=10).map(|id| Endpoint::Node(NodeId(id))).collect();
    let rest: Vec<Endpoint> = (1..=7).map(|id| Endpoint::Node(NodeId(id))).collect();
    scenario.faults = vec![
        at(PAXOS_BEFORE_C2_PREPARE_MS, Fault::Partition(vec![rest, cut_off])),
        at(PAXOS_BEFORE_C2_PREPARE_MS, Fault::Drop(next("Accept", Some(6), Some(7)))),
        at(PAXOS_AFTER_C2_COMMIT_MS, Fault::Crash(NodeId(6))),
        at(PAXOS_AFTER_C2_COMMIT_MS, Fault::Crash(NodeId(7))),
        at(PAXOS_AFTER_C2_COMMIT_MS, Fault::Heal),
    ];
    named("paxos-bug-commit-before-quorum", scenario)
}

/// C2's leader n4 changes seq 200 from P to C in place; both COMMITs that carry the change are lost
/// and n4 crashes after acknowledging. C2's next leader has only P at seq 200.
fn paxos_bug_update_in_place() -> Scenario {
    let faults = vec![
        at(PAXOS_BEFORE_C2_REWRITE_MS, Fault::Drop(next("PaxosCommit", Some(4), Some(5)))),
        at(PAXOS_BEFORE_C2_REWRITE_MS, Fault::Drop(next("PaxosCommit", Some(4), Some(6)))),
        at(PAXOS_AFTER_C2_ACK_MS, Fault::Crash(NodeId(4))),
    ];
    let mut scenario = replicated(Engine::MultiPaxos, one_transfer(CoordinatorPlacement::Colocated, faults));
    scenario.bugs.update_in_place = true;
    // Revision 2: its coordinator answers the late query with a presumed ABORT, as seed 002's does.
    // Revision 3 answers from its record of completed transactions, and the harm stops at
    // one-value-per-slot.
    scenario.protocol = 2;
    named("paxos-bug-update-in-place", scenario)
}

// Moments of the dedicated-coordinator run over Raft, read off its trace: the TM group's leader sends
// PREPARE at 131 ms, C2's leader votes YES at 156 ms, the TM's Commit(t1) commits and COMMIT goes
// out at 193 ms.
/// A seed whose election timeouts let n6 campaign before n5 in `c2_race_after_a_cut`.
const RACE_SEED: u64 = 5;

// Moments of the co-located run over Multi-Paxos (paxos-seed-002), read off its trace.
const PAXOS_BEFORE_C2_PREPARE_MS: Millis = 116;
const PAXOS_AFTER_C2_COMMIT_MS: Millis = 140;
const PAXOS_BEFORE_C2_REWRITE_MS: Millis = 150;
const PAXOS_AFTER_C2_ACK_MS: Millis = 157;

// The failure modes seeds 003 and 004 describe, one preset each.

/// A dedicated TM's transfer with slow disks (10 ms a write), so the windows between a message
/// and its durable record are wide enough to crash in.
fn slow_disk(faults: Vec<ScheduledFault>) -> Scenario {
    let mut scenario = one_transfer(CoordinatorPlacement::Dedicated, faults);
    scenario.disk.write_ms = 10;
    scenario
}

fn participant_crash_before_prepare_durable() -> Scenario {
    // PREPARE reaches n4 at 29 ms; its prepare record would be durable at 39 ms.
    let faults = vec![at(33, Fault::Crash(NodeId(4))), at(400, Fault::Restart(NodeId(4)))];
    named("participant-crash-before-prepare-durable", slow_disk(faults))
}

fn participant_crash_before_outcome_durable() -> Scenario {
    // COMMIT reaches n4 at 77 ms; its Committed record would be durable at 87 ms.
    let faults = vec![at(80, Fault::Crash(NodeId(4))), at(400, Fault::Restart(NodeId(4)))];
    named("participant-crash-before-outcome-durable", slow_disk(faults))
}

fn coordinator_crash_during_commit_broadcast() -> Scenario {
    let mut scenario = three_participants();
    scenario.topology.shards = vec![accounts(&[(1001, 500)]), accounts(&[(3001, 200)]), accounts(&[(5001, 0)])];
    scenario.faults = vec![
        at(0, Fault::Drop(next("Commit", Some(TM), Some(4)))),
        at(0, Fault::Drop(next("Commit", Some(TM), Some(7)))),
        at(45, Fault::Crash(NodeId(TM))),
        at(900, Fault::Restart(NodeId(TM))),
    ];
    named("coordinator-crash-during-commit-broadcast", scenario)
}

fn coordinator_crash_before_commit_durable() -> Scenario {
    // Every YES is in at 59 ms; Commit(t1) would be durable at 69 ms.
    let faults = vec![at(63, Fault::Crash(NodeId(TM))), at(400, Fault::Restart(NodeId(TM)))];
    named("coordinator-crash-before-commit-durable", slow_disk(faults))
}

fn lost_ack() -> Scenario {
    let faults = vec![at(0, Fault::Drop(next("Ack", Some(4), Some(TM))))];
    named("lost-ack", one_transfer(CoordinatorPlacement::Dedicated, faults))
}

fn vulnerability_window() -> Scenario {
    // t1 (1001 -> 3001) is coordinated by C1, which crashes with C2 in doubt holding 3001; t2
    // (5001 -> 3001), coordinated by C3, needs the lock and is refused.
    let mut scenario = one_transfer(CoordinatorPlacement::Colocated, vec![]);
    scenario.workload.requests =
        vec![request(0, vec![transfer(1001, 3001, 10)]), request(120, vec![transfer(5001, 3001, 5)])];
    scenario.faults = vec![at(30, Fault::Crash(NodeId(1))), at(1_200, Fault::Restart(NodeId(1)))];
    named("vulnerability-window", scenario)
}

/// Runs every request of `scenario` as a saga.
fn as_sagas(mut scenario: Scenario) -> Scenario {
    for request in &mut scenario.workload.requests {
        request.saga = true;
    }
    scenario
}

fn saga_completes() -> Scenario {
    let scenario = as_sagas(three_participants());
    named("saga-completes", scenario)
}

fn saga_compensates() -> Scenario {
    let mut scenario = one_transfer(CoordinatorPlacement::Dedicated, vec![]);
    scenario.topology.shards =
        vec![accounts(&[(1001, 500), (1002, 100)]), accounts(&[(3001, 200)]), accounts(&[(5001, 0), (5002, 0)])];
    scenario.workload.requests = vec![request(0, vec![transfer(1001, 3001, 100), transfer(5002, 1001, 50)])];
    named("saga-compensates", as_sagas(scenario))
}

fn saga_half_done_visible() -> Scenario {
    let mut scenario = saga_compensates();
    // t2 (2PC) spends t1's credit while t1's third step is held up; t3 (2PC) refills 3001 later.
    scenario.workload.requests.push(request(60, vec![transfer(3001, 5001, 250)]));
    scenario.workload.requests.push(request(400, vec![transfer(1002, 3001, 80)]));
    scenario.faults = vec![at(0, Fault::Delay { message: next("Step", Some(TM), Some(7)), by_ms: 100 })];
    named("saga-half-done-visible", scenario)
}

fn saga_no_blocking() -> Scenario {
    let scenario = as_sagas(vulnerability_window());
    named("saga-no-blocking", scenario)
}

fn third_participant_votes_no() -> Scenario {
    let mut scenario = one_transfer(CoordinatorPlacement::Dedicated, vec![]);
    scenario.workload.requests = vec![request(0, vec![transfer(1001, 3001, 10), transfer(5001, 3001, 500)])];
    scenario.faults = vec![at(0, Fault::Delay { message: next("Prepare", Some(TM), Some(7)), by_ms: 40 })];
    named("third-participant-votes-no", scenario)
}

/// C2 (n4) on one side, the TM, C1 and the client on the other.
fn c2_cut_off() -> Fault {
    Fault::Partition(vec![
        vec![Endpoint::Node(NodeId(TM)), Endpoint::Node(NodeId(1)), Endpoint::Client],
        vec![Endpoint::Node(NodeId(4))],
    ])
}

fn partition_during_commit() -> Scenario {
    let faults = vec![at(44, c2_cut_off()), at(400, Fault::Heal)];
    named("partition-during-commit", one_transfer(CoordinatorPlacement::Dedicated, faults))
}

fn abort_overtakes_prepare() -> Scenario {
    let faults = vec![at(0, Fault::Delay { message: next("Prepare", Some(TM), Some(4)), by_ms: 200 })];
    named("abort-overtakes-prepare", one_transfer(CoordinatorPlacement::Dedicated, faults))
}

fn late_duplicate_prepare() -> Scenario {
    // m4 is the copy of the PREPARE to n4 (m3); the network holds it back until t1 is over.
    let faults = vec![
        at(0, Fault::Duplicate(next("Prepare", Some(TM), Some(4)))),
        at(16, Fault::Delay { message: MessageTarget::Id(commitlab_protocol::MessageId(4)), by_ms: 200 }),
    ];
    named("late-duplicate-prepare", one_transfer(CoordinatorPlacement::Dedicated, faults))
}

fn bug_ignore_locks() -> Scenario {
    let mut scenario = lock_conflict();
    scenario.bugs.ignore_locks = true;
    named("bug-ignore-locks", scenario)
}

fn bug_commit_on_vote_timeout() -> Scenario {
    let mut scenario = participant_crash_before_vote();
    scenario.bugs.commit_on_vote_timeout = true;
    named("bug-commit-on-vote-timeout", scenario)
}

fn bug_reply_before_log() -> Scenario {
    // The TM answers at 59 ms, when every YES is in, and crashes before Commit(t1) is durable (69 ms).
    let mut scenario = slow_disk(vec![at(63, Fault::Crash(NodeId(TM))), at(400, Fault::Restart(NodeId(TM)))]);
    scenario.bugs.reply_before_log = true;
    named("bug-reply-before-log", scenario)
}
