//! `[runtime]` and `[[runtime.threads]]`: every stage run by exactly one thread, names unique,
//! cores that exist; without threads, one unpinned thread `hot` runs them all. The portfolio
//! stage joins the risk stage's thread unless a thread names it.

use super::super::raw::RawRuntime;
use super::super::{ConfigError, IdleKind, RuntimeConfig, StageKind, ThreadConfig};
use super::Checker;

impl Checker<'_> {
    pub(super) fn runtime(&self, raw: RawRuntime) -> Result<RuntimeConfig, ConfigError> {
        let idle = raw.idle.unwrap_or(IdleKind::BusySpin);
        let on_stage_failure = raw.on_stage_failure.unwrap_or_default();
        let Some(raw_threads) = raw.threads else {
            let hot = ThreadConfig {
                name: "hot".to_owned(),
                stages: StageKind::ALL.to_vec(),
                core: None,
                idle,
            };
            return Ok(RuntimeConfig {
                threads: vec![hot],
                on_stage_failure,
                fail_stage: None,
            });
        };
        let cpus = std::thread::available_parallelism().map_or(1, |n| n.get());
        let mut runner: [Option<usize>; StageKind::ALL.len()] = [None; StageKind::ALL.len()];
        let mut threads: Vec<ThreadConfig> = Vec::new();
        for (i, raw) in raw_threads.get_ref().iter().enumerate() {
            let key = format!("runtime.threads[{i}]");
            let name = raw.name.get_ref();
            if name.is_empty() {
                return Err(self.err(format!("{key}.name"), raw.name.span(), "must not be empty"));
            }
            if threads.iter().any(|t| t.name == *name) {
                return Err(self.err(
                    format!("{key}.name"),
                    raw.name.span(),
                    format!("thread name `{name}` is used twice"),
                ));
            }
            if raw.stages.get_ref().is_empty() {
                return Err(self.err(
                    format!("{key}.stages"),
                    raw.stages.span(),
                    "a thread must run at least one stage",
                ));
            }
            for stage in raw.stages.get_ref() {
                let slot = &mut runner[*stage.get_ref() as usize];
                if let Some(other) = *slot {
                    let owner = &raw_threads.get_ref()[other].name;
                    let message = format!(
                        "stage `{}` is already run by thread `{}`",
                        stage.get_ref().name(),
                        owner.get_ref()
                    );
                    return Err(self.err(format!("{key}.stages"), stage.span(), message));
                }
                *slot = Some(i);
            }
            let core = match &raw.core {
                Some(core) if !(0..cpus as i64).contains(core.get_ref()) => {
                    let message = format!(
                        "must be a CPU index from 0 to {} (this machine has {cpus} CPUs)",
                        cpus - 1
                    );
                    return Err(self.err(format!("{key}.core"), core.span(), message));
                }
                Some(core) => Some(*core.get_ref() as usize),
                None => None,
            };
            let stages = raw.stages.get_ref().iter().map(|s| *s.get_ref()).collect();
            threads.push(ThreadConfig {
                name: name.clone(),
                stages,
                core,
                idle: raw.idle.unwrap_or(idle),
            });
        }
        // The portfolio stage, when nothing names it, runs beside the risk stage.
        if runner[StageKind::Portfolio as usize].is_none() {
            if let Some(t) = runner[StageKind::Risk as usize] {
                threads[t].stages.push(StageKind::Portfolio);
                runner[StageKind::Portfolio as usize] = Some(t);
            }
        }
        if let Some(stage) = StageKind::ALL
            .iter()
            .find(|s| runner[**s as usize].is_none())
        {
            let message = format!("stage `{}` is not run by any thread", stage.name());
            return Err(self.err("runtime.threads", raw_threads.span(), message));
        }
        Ok(RuntimeConfig {
            threads,
            on_stage_failure,
            fail_stage: None,
        })
    }
}
