//! `loadgen`: closed-loop HTTP load against a Vault-API server (Tresor or OpenBao).
//!
//! Setup (mount, keys), warmup, then a measured window, over exactly `--concurrency`
//! keep-alive HTTP/1.1 connections. Prints one JSON line to stdout and a table to stderr.
//! Exit status: 0 ok, 1 run failed (error ratio above 1%, server stopped answering),
//! 2 bad arguments, 3 setup failed. See benches/README.md.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tresor_benches::load::args::{self, Args, USAGE};
use tresor_benches::load::conn::{Conn, Target};
use tresor_benches::load::report::{self, CpuUse};
use tresor_benches::load::run::{self, Schedule};
use tresor_benches::load::workload::{self, Plan};

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    let args = match args::parse(&argv) {
        Ok(args) => args,
        Err(error) => {
            if !error.is_empty() {
                eprintln!("loadgen: {error}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("loadgen: tokio runtime: {error}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(run_once(args))
}

async fn run_once(args: Args) -> ExitCode {
    let target = Arc::new(Target {
        authority: args.authority.clone(),
        token: args.token.clone(),
    });
    let plan = Arc::new(Plan::new(
        args.workload,
        &args.mount,
        args.keys,
        args.value_bytes,
    ));

    // Setup and connection opening both count as setup: a server that cannot take
    // `concurrency` connections is not measured.
    let conns = match prepare(&args, &plan, &target).await {
        Ok(conns) => conns,
        Err(error) => {
            let json = report::setup_failed(&args, &error);
            println!("{json}");
            eprintln!(
                "loadgen: {}{} setup failed: {error}",
                label_prefix(&args.label),
                args.workload.name()
            );
            return ExitCode::from(3);
        }
    };

    let measure_start = Instant::now() + args.warmup;
    let schedule = Schedule {
        measure_start,
        measure_end: measure_start + args.duration,
        max_requests: args.max_requests,
    };
    let server_pid = args.server_pid.map(|pid| pid.to_string());
    // CPU counters are read at the window's edges, after the warmup.
    let sampler = tokio::spawn(async move {
        tokio::time::sleep_until(measure_start.into()).await;
        let server = server_pid.as_deref().and_then(report::cpu_time);
        (server_pid, server, report::cpu_time("self"))
    });
    let result = run::run(Arc::clone(&plan), Arc::clone(&target), conns, schedule).await;
    let (server_pid, server_before, loadgen_before) = sampler.await.unwrap_or_default();
    let cpu = CpuUse {
        server_us_per_request: report::cpu_us_per_request(
            server_before,
            server_pid.as_deref().and_then(report::cpu_time),
            result.requests,
        ),
        loadgen_us_per_request: report::cpu_us_per_request(
            loadgen_before,
            report::cpu_time("self"),
            result.requests,
        ),
    };
    let report = report::build(&args, result, cpu);
    println!("{}", report.json);
    eprintln!("{}", report::table(&report.json));
    if report.failed {
        return ExitCode::from(1);
    }
    ExitCode::SUCCESS
}

fn label_prefix(label: &str) -> String {
    match label {
        "" => String::new(),
        label => format!("{label} "),
    }
}

/// Opens the connections and runs the workload's setup over the first one.
async fn prepare(args: &Args, plan: &Plan, target: &Target) -> Result<Vec<Conn>, String> {
    let started = Instant::now();
    let mut setup_conn = Conn::open(target).await?;
    workload::setup(plan, target, &mut setup_conn, args.prefill).await?;
    drop(setup_conn);
    let mut conns = Vec::with_capacity(args.concurrency);
    for _ in 0..args.concurrency {
        conns.push(Conn::open(target).await?);
    }
    let took = started.elapsed();
    if took > Duration::from_secs(1) {
        eprintln!(
            "loadgen: setup of {} took {:.1} s",
            args.workload.name(),
            took.as_secs_f64()
        );
    }
    Ok(conns)
}
