//! `tresor`: the server and its command-line client, answering to the same commands and flags
//! as `vault` (and `bao`), so scripts and the Helm chart work unchanged.

mod cli;
mod cluster;
mod config;
mod core;
mod expiration;
mod flags;
mod http;
mod listener;
mod mounts;
mod router;
mod server;
mod sys;

use std::process::ExitCode;

/// mimalloc instead of glibc malloc: a KV write allocates a few hundred small buffers
/// (JSON, barrier frames, sled nodes) across threads, and glibc's arena locking and
/// consolidation cost ~18% of server CPU on that path (benches/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    // rustls is built without a default provider; every client and listener uses ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let code = match args.first().map(String::as_str) {
        Some("server") => server::run(&args[1..]),
        // HA hook (issue #5): `operator raft join|list-peers` live in `cluster/cli.rs`.
        Some("operator") if cluster::cli::handles(&args[1..]) => cluster::cli::run(&args[1..]),
        Some("operator") if cli::raft_snapshot::handles(&args[1..]) => {
            cli::raft_snapshot::run(&args[2..])
        }
        _ => cli::run(&args),
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
