//! `pulse kill`, `pulse rearm`, `pulse reduce-only`: operator commands to a running engine
//! (see [`crate::risk::control`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::risk::control::{self, Command};
use crate::stats::reader::default_path;

#[derive(Args, Debug)]
pub struct ControlArgs {
    /// The engine's instance name (`[engine] name`). Without it or --stats-file, the one
    /// engine running on this host.
    #[arg(long, conflicts_with = "stats_file")]
    pub name: Option<String>,
    /// The engine's stats file, when `[metrics] stats_file` moved it; the command goes to the
    /// `.control` file beside it.
    #[arg(long, value_name = "PATH")]
    pub stats_file: Option<PathBuf>,
}

pub fn run(cmd: Command, args: &ControlArgs) -> ExitCode {
    let stats = match (&args.stats_file, &args.name) {
        (Some(file), _) => file.clone(),
        (None, Some(name)) => default_path(name),
        (None, None) => match crate::stats_cmd::discover() {
            Ok((path, _)) => path,
            Err(e) => {
                eprintln!("pulse {}: {e}", cmd.name());
                return ExitCode::FAILURE;
            }
        },
    };
    match control::send(&control::control_path(&stats), cmd) {
        Ok(()) => {
            println!(
                "pulse {}: taken by the engine ({})",
                cmd.name(),
                stats.display()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("pulse {}: {e}", cmd.name());
            ExitCode::FAILURE
        }
    }
}
