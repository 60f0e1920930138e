//! `pulse`: run the engine, or check a config without running it.

fn main() -> std::process::ExitCode {
    pulse_engine::cli::main()
}
