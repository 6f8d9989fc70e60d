use clap::Parser;
use std::process::ExitCode;

use nightmarket::cli::{Cli, Command};
use nightmarket::{startup, telemetry};

/// mimalloc keeps the memory it frees for reuse: a compressed response allocates and drops a large
/// deflate state, which with the system allocator meant an mmap, page faults and an munmap per
/// request (a fifth of the scan page's CPU under load).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init();
    // TLS for outgoing requests (the SMS gateway) uses ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let result = match &cli.command {
        None => startup::serve(&cli.storage, &cli.serve)
            .await
            .map(|()| ExitCode::SUCCESS),
        Some(Command::Serve(args)) => startup::serve(&cli.storage, args).await.map(|()| ExitCode::SUCCESS),
        Some(Command::Tenant(cmd)) => startup::tenant(&cli.storage, cmd).await,
        Some(Command::Audit(cmd)) => startup::audit(&cli.storage, cmd).await,
        Some(Command::Sms(cmd)) => startup::sms(&cli.storage, cmd).await,
        Some(Command::Code(cmd)) => startup::code(&cli.storage, cmd).await,
        Some(Command::Record(cmd)) => startup::record(cmd),
        Some(Command::Lottery(cmd)) => startup::lottery(cmd),
        Some(Command::Sweep) => startup::sweep(&cli.storage).await,
        Some(Command::Backup { to }) => nightmarket::backup::backup(&cli.storage, to).await,
        Some(Command::Restore { from }) => nightmarket::backup::restore(&cli.storage, from).await,
        Some(Command::Citus(cmd)) => startup::citus(&cli.storage, cmd).await,
        Some(Command::BenchFlashSeed {
            vouchers,
            shoppers,
            opens_in,
            out,
        }) => startup::bench_flash_seed(&cli.storage, *vouchers, *shoppers, *opens_in, out).await,
        Some(Command::BenchChaosSeed {
            stalls,
            vouchers,
            shoppers,
            out,
        }) => startup::bench_chaos_seed(&cli.storage, *stalls, *vouchers, *shoppers, out).await,
        Some(Command::BenchNumbersSeed {
            stalls,
            nights,
            scans,
            ratings,
            complaints,
            redemptions,
            attendance,
            out,
        }) => {
            let load = nightmarket::demo::load::NumbersLoad {
                stalls: *stalls,
                nights: *nights,
                scans: *scans,
                ratings: *ratings,
                complaints: *complaints,
                redemptions: *redemptions,
                attendance: *attendance,
            };
            startup::bench_numbers_seed(&cli.storage, &load, out).await
        }
        Some(Command::BenchSeed { stalls, tenants, out }) => {
            startup::bench_seed(&cli.storage, *stalls, *tenants, out).await
        }
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
