//! `pulse kill`, `pulse rearm`, `pulse reduce-only`, `pulse flatten`: operator commands to a
//! running engine (see [`crate::risk::control`]).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;

use crate::risk::control::{self, Command};
use crate::run_dir::{self, RunDir};

#[derive(Args, Debug)]
pub struct ControlArgs {
    /// The engine's instance name (`[engine] name`). Without it, the one engine running in
    /// the run directory.
    #[arg(long)]
    pub name: Option<String>,
    /// The engine's run directory (`[engine] run_dir`), when its config moved it.
    #[arg(long, value_name = "DIR")]
    pub run_dir: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct FlattenArgs {
    #[command(flatten)]
    pub control: ControlArgs,
    /// Only this instrument (`venue:SYMBOL`, or a symbol one venue has); every instrument
    /// without it.
    #[arg(long, value_name = "INSTRUMENT")]
    pub instrument: Option<String>,
}

pub fn run(cmd: Command, args: &ControlArgs) -> ExitCode {
    send(cmd, args, None)
}

/// `pulse flatten`: the engine cancels the working orders, then closes the positions with
/// marketable limits inside the collar, in slices no larger than the max order size.
pub fn flatten(args: &FlattenArgs) -> ExitCode {
    if let Some(i) = &args.instrument {
        let ok = !i.is_empty() && i.len() <= 48 && i.bytes().all(|b| b.is_ascii_graphic());
        if !ok {
            eprintln!("pulse flatten: --instrument must be venue:SYMBOL (printable, no spaces)");
            return ExitCode::FAILURE;
        }
    }
    send(Command::Flatten, &args.control, args.instrument.as_deref())
}

fn send(cmd: Command, args: &ControlArgs, instrument: Option<&str>) -> ExitCode {
    let sent = target(args).and_then(|(dir, name)| {
        control::send(&dir.control_file(&name), cmd, instrument)?;
        Ok(dir.stats_file(&name))
    });
    match sent {
        Ok(stats) => {
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

/// The verified run directory and the engine's name.
fn target(args: &ControlArgs) -> Result<(RunDir, String), String> {
    let dir = RunDir::open(&args.run_dir.clone().unwrap_or_else(run_dir::default_dir))?;
    let name = match &args.name {
        Some(name) => {
            crate::stats::check_instance_name(name)?;
            name.clone()
        }
        None => crate::stats_cmd::discover(&dir)?.1,
    };
    Ok((dir, name))
}
