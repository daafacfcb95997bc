//! Ratio tables from criterion's saved estimates.
//!
//! Criterion saves each benchmark's results in
//! `target/criterion/<group>/<function>/new/`: `benchmark.json` holds its
//! ids and throughput, `estimates.json` its statistics in nanoseconds per
//! iteration. This module reads them ([`load`]), parses them ([`parse`]),
//! classifies each contender ([`Kind`]), computes the ratio to the best peer
//! and prints markdown ([`table`]). The `report` binary only wires these up.

pub mod header;
pub mod kind;
pub mod load;
pub mod parse;
pub mod table;

pub use kind::Kind;
pub use load::{load_dir, LoadError};
pub use parse::{parse_benchmark, Benchmark, ParseError, Throughput};
pub use table::{build_tables, render_markdown, Row, Table};
