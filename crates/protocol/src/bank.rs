//! The bank state machine a shard stores: balances, exclusive no-wait locks, and a journal of
//! committed journal lines (seed 004's log database).

use crate::context::Context;
use crate::effect::Note;
use crate::ids::{AccountId, TxnId};
use crate::message::Write;
use crate::vec_map::VecMap;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Bank {
    balances: VecMap<AccountId, i64>,
    /// Sum of all balances, kept up to date so the conservation check costs nothing per event.
    total: i64,
    locks: VecMap<AccountId, TxnId>,
    journal: Vec<(TxnId, String)>,
}

impl Bank {
    pub fn new(balances: VecMap<AccountId, i64>) -> Bank {
        let total = balances.values().sum();
        Bank { balances, total, locks: VecMap::new(), journal: Vec::new() }
    }

    pub fn balance(&self, account: AccountId) -> Option<i64> {
        self.balances.get(&account).copied()
    }

    pub fn balances(&self) -> &VecMap<AccountId, i64> {
        &self.balances
    }

    pub fn total(&self) -> i64 {
        self.total
    }

    pub fn locks(&self) -> &VecMap<AccountId, TxnId> {
        &self.locks
    }

    pub fn journal(&self) -> &[(TxnId, String)] {
        &self.journal
    }

    pub fn lock_holder(&self, account: AccountId) -> Option<TxnId> {
        self.locks.get(&account).copied()
    }

    /// Sets a balance, reporting the change. Accounts are checked by the caller.
    pub fn set(&mut self, account: AccountId, value: i64, context: &mut Context) {
        let slot = self.balances.get_mut(&account).expect("write to an account of another shard");
        let before = *slot;
        if before == value {
            return;
        }
        *slot = value;
        self.total += value - before;
        context.note(Note::Balance { account, before, after: value });
    }

    pub fn lock(&mut self, account: AccountId, txn: TxnId, context: &mut Context) {
        // Exclusivity is the caller's check (and an invariant the simulator verifies): with the
        // `ignore_locks` bug on, a second holder silently takes over the entry.
        self.locks.insert(account, txn);
        context.note(Note::LockTaken { account, txn });
    }

    /// Releases the locks `txn` holds on these accounts; locks held by others stay.
    pub fn unlock(&mut self, writes: &[Write], txn: TxnId, context: &mut Context) {
        for write in writes {
            if self.locks.get(&write.account) == Some(&txn) {
                self.locks.remove(&write.account);
                context.note(Note::LockReleased { account: write.account, txn });
            }
        }
    }

    pub fn append_journal(&mut self, txn: TxnId, line: String) {
        self.journal.push((txn, line));
    }

    /// Removes `txn`'s journal line (a saga step's compensation).
    pub fn remove_journal(&mut self, txn: TxnId) {
        self.journal.retain(|(line_txn, _)| *line_txn != txn);
    }

    /// Applies redo images: at PREPARE when writes are made in place, at COMMIT when they are
    /// deferred, and on replay of either record.
    pub fn apply_after(&mut self, writes: &[Write], context: &mut Context) {
        for write in writes {
            self.set(write.account, write.after, context);
        }
    }

    /// Restores undo images, as on abort; in reverse so a repeated account ends at its first image.
    pub fn apply_before(&mut self, writes: &[Write], context: &mut Context) {
        for write in writes.iter().rev() {
            self.set(write.account, write.before, context);
        }
    }
}
