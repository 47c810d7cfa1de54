//! Shared helpers for benchmarks.
//!
//! `load` is the HTTP load runner behind the `loadgen` binary (see `benches/README.md`).

pub mod load;
