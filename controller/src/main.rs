//! `sealant-controller`: see the library crate.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser as _;

// mimalloc in place of musl's mallocng (docs/design/memory.md, "Allocator").
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let args = sealant_controller::flags::Args::parse();
    if let Err(err) =
        sealant_controller::logging::init(&args.log_level, &args.log_format, args.log_info_stdout)
    {
        eprintln!("error: {err}");
        return ExitCode::from(2);
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    // Run on the runtime's workers, not on this thread: the watches and the queue wake it
    // from the workers all the time otherwise (docs/design/cpu.md, "What is done").
    match runtime.block_on(async { tokio::spawn(sealant_controller::run(args)).await }) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(err)) => {
            tracing::error!("{err}");
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
        Err(err) => {
            eprintln!("error: the controller stopped: {err}");
            ExitCode::FAILURE
        }
    }
}
