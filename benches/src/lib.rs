//! Helpers shared by the criterion benchmarks in `benches/benches/`, and the
//! parsing and formatting behind `cargo run -p benches --bin report`.
//!
//! Every benchmark group puts our implementation beside its peers on the same
//! workload. Function ids follow one rule so the report can tell them apart:
//! the first `/`-separated segment names where the contender comes from.
//!
//! | first segment | kind | examples |
//! |---|---|---|
//! | `ours` | ours | `ours/current_thread`, `ours/event` |
//! | `floor` | floor (a lower bound, not a real contender) | `floor`, `floor/parking_lot` |
//! | anything else (the peer crate's name) | peer | `tokio/multi_thread`, `async-lock/mutex` |
//!
//! See [`report::Kind`] for the rule in code.

#![warn(missing_docs, missing_debug_implementations, rust_2018_idioms)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod async_executor_pool;
pub mod floor;
pub mod report;
pub mod yield_once;

pub use async_executor_pool::AsyncExecutorPool;
pub use yield_once::{yield_once, YieldOnce};
