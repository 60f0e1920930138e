//! What a run starts from on disk: its journal's three streams, opened (a torn tail cut, a
//! corrupt stream refused) before anything is appended, and the risk state it restores.

use anyhow::Context;
use pulse_feeds::input_journal;
use pulse_journal::{Appender, JournalService};

use crate::config::{Config, JournalConfig, SourceConfig};
use crate::risk::restore;
use crate::risk::state::RiskState;
use crate::{decisions, ops};

/// The appenders of the three streams, each opened and checked before anything is appended
/// to any: a corrupt stream stops start-up without a SESSION record in the others.
pub(crate) struct Streams {
    pub(crate) input: Appender,
    pub(crate) output: Appender,
    pub(crate) events: Appender,
}

pub(crate) fn open_streams(
    cfg: &JournalConfig,
    services: &mut Vec<(&'static str, JournalService)>,
) -> anyhow::Result<Streams> {
    Ok(Streams {
        input: open_stream(cfg, input_journal::STREAM, services)?,
        output: open_stream(cfg, decisions::STREAM, services)?,
        events: open_stream(cfg, ops::EVENTS_STREAM, services)?,
    })
}

/// Opens one stream of the configured journal, cutting a torn tail left by a crash; a
/// corrupt stream is an error naming the segment and offset (`pulse journal recover`).
pub(crate) fn open_stream(
    cfg: &JournalConfig,
    stream: &'static str,
    services: &mut Vec<(&'static str, JournalService)>,
) -> anyhow::Result<Appender> {
    let mut options = pulse_journal::JournalConfig::new(cfg.dir.clone(), stream);
    options.segment_bytes = cfg.segment_bytes;
    if stream == decisions::STREAM {
        options.fail_io_at = cfg.fail_io_at;
        options.sync = cfg.sync;
    }
    let (appender, service) = Appender::open(options).with_context(|| {
        format!(
            "cannot open journal stream {stream} in {} (`pulse journal verify` describes it; \
             `pulse journal recover` sets damage aside)",
            cfg.dir.display()
        )
    })?;
    services.push((stream, service));
    Ok(appender)
}

/// The risk state this run starts from ([`restore`]): a replay of a journal directory's input
/// starts where that recorded session started; any other run where its own journal ended.
pub(crate) fn restore_point(cfg: &Config) -> anyhow::Result<Option<RiskState>> {
    Ok(match (&cfg.source, &cfg.journal) {
        (SourceConfig::Capture { path, .. }, _) if path.is_dir() => {
            restore::read(path)?.session_start
        }
        (_, Some(j)) => restore::read(&j.dir)?.last,
        (_, None) => None,
    })
}
