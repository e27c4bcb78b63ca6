//! A node's durable log as an append-only chunked list: full chunks are shared (reference
//! counted) between the world and its checkpoints, so keeping a checkpoint every thousand events
//! does not copy every log each time. Each record is shared too, with the trace entry that shows
//! it reaching the disk.

use commitlab_protocol::Record;
use std::sync::Arc;

const CHUNK_LEN: usize = 256;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Wal {
    chunks: Vec<Arc<[Arc<Record>]>>,
    tail: Vec<Arc<Record>>,
}

impl Wal {
    pub fn push(&mut self, record: Record) {
        self.push_shared(Arc::new(record));
    }

    /// Appends a record that others (the trace) hold too.
    pub fn push_shared(&mut self, record: Arc<Record>) {
        self.tail.push(record);
        if self.tail.len() == CHUNK_LEN {
            let full = std::mem::take(&mut self.tail);
            self.chunks.push(full.into());
        }
    }

    pub fn len(&self) -> usize {
        self.chunks.len() * CHUNK_LEN + self.tail.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> impl Iterator<Item = &Record> + Clone {
        self.chunks.iter().flat_map(|chunk| chunk.iter()).chain(self.tail.iter()).map(|record| &**record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use commitlab_protocol::TxnId;

    #[test]
    fn keeps_order_across_chunks_and_shares_them() {
        let mut wal = Wal::default();
        for number in 0..600 {
            wal.push(Record::Completed { txn: TxnId(number) });
        }
        let copy = wal.clone();
        wal.push(Record::Completed { txn: TxnId(600) });
        assert_eq!(copy.len(), 600);
        assert_eq!(wal.len(), 601);
        let numbers: Vec<u32> = wal.iter().map(|record| record.txn().0).collect();
        assert_eq!(numbers, (0..601).collect::<Vec<_>>());
        assert!(Arc::ptr_eq(&wal.chunks[0], &copy.chunks[0]));
    }
}
