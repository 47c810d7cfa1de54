//! The HTTP load runner: a fixed pool of keep-alive HTTP/1.1 connections, one per worker,
//! driving one Vault-API workload against a server (Tresor or OpenBao) for a bounded time.
//!
//! Flow: `args` parses the command line, `workload::setup` prepares the mount and keys,
//! `run::run` does the warmup and the measured window, `report` turns samples into numbers.

pub mod args;
pub mod conn;
pub mod limits;
pub mod report;
pub mod run;
pub mod workload;
