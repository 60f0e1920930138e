//! `pulse`: run the engine, or check a config without running it.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    pulse_engine::cli::main()
}
