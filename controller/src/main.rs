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
    match runtime.block_on(sealant_controller::run(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!("{err}");
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
