//! Shared helpers for the benchmarks (work in progress; see issue 7).
