//! One component per file; each renders part of the `Playground` and sends `Action`s.

pub mod cluster;
pub mod controls;
pub mod crown;
pub mod details;
pub mod editor;
pub mod explore;
pub mod faults;
pub mod groups;
pub mod header;
pub mod invariants;
pub mod round;
pub mod sequence;
pub mod share;
pub mod spec;
pub mod tables;
pub mod trace_log;
