//! `[[sources]]`: several feeds in one process, and which one feeds each instrument.

use pulse_feeds::instrument::{InstrumentRegistry, Venue};
use pulse_feeds::num::InstrumentId;
use toml::Spanned;

use super::super::raw::RawSource;
use super::super::{ConfigError, FeedSpec, SourceConfig, MAX_SOURCES};
use super::Checker;

/// Which instruments a source feeds unless its `instruments` key names them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// A capture without `venue`: every instrument.
    All,
    Venue(Venue),
    /// A venue the program added: only the instruments it names.
    Named,
}

impl Checker<'_> {
    /// The first source table and the others: `[source]` alone, or `[[sources]]`.
    pub(super) fn source_tables<'r>(
        &self,
        source: &'r Option<RawSource>,
        sources: &'r Option<Spanned<Vec<RawSource>>>,
    ) -> Result<(&'r RawSource, &'r [RawSource]), ConfigError> {
        match (source, sources) {
            (Some(one), None) => {
                let extra = [
                    ("name", one.name.as_ref().map(Spanned::span)),
                    ("venue", one.venue.as_ref().map(Spanned::span)),
                    ("instruments", one.instruments.as_ref().map(Spanned::span)),
                ];
                if let Some((key, Some(span))) = extra.into_iter().find(|(_, s)| s.is_some()) {
                    return Err(self.err(
                        format!("source.{key}"),
                        span,
                        "a key of [[sources]] (several feeds); [source] feeds every instrument",
                    ));
                }
                Ok((one, &[]))
            }
            (None, Some(many)) => match many.get_ref().split_first() {
                Some((first, rest)) if many.get_ref().len() <= MAX_SOURCES => Ok((first, rest)),
                Some(_) => Err(self.err(
                    "sources",
                    many.span(),
                    format!("at most {MAX_SOURCES} sources"),
                )),
                None => Err(self.err("sources", many.span(), "needs at least one source")),
            },
            (Some(one), Some(_)) => Err(self.err(
                "sources",
                one.kind.span(),
                "give either [source] (one feed) or [[sources]] (several), not both",
            )),
            (None, None) => Err(ConfigError {
                key: "source".into(),
                line: None,
                message: "missing: add [source] (one feed) or [[sources]] (several)".into(),
            }),
        }
    }

    /// The second and later sources, and every source's name, venue and instruments; none
    /// with `[source]`, whose one feed keeps every book.
    pub(super) fn sources(
        &self,
        (first, more, many): (&RawSource, &[RawSource], bool),
        first_config: &SourceConfig,
        instruments: &InstrumentRegistry,
    ) -> Result<(Vec<SourceConfig>, Vec<FeedSpec>), ConfigError> {
        if !many {
            return Ok((Vec::new(), Vec::new()));
        }
        let tables: Vec<&RawSource> = std::iter::once(first).chain(more).collect();
        let mut configs = Vec::with_capacity(more.len());
        for (i, raw) in more.iter().enumerate() {
            configs.push(self.source(raw, &format!("sources[{}]", i + 1))?);
        }
        let mut feeds: Vec<FeedSpec> = Vec::with_capacity(tables.len());
        let mut scopes = Vec::with_capacity(tables.len());
        let mut owner: Vec<Option<usize>> = vec![None; instruments.len()];
        for (i, raw) in tables.iter().enumerate() {
            let key = |k: &str| format!("sources[{i}].{k}");
            let config = if i == 0 {
                first_config
            } else {
                &configs[i - 1]
            };
            let live = match config {
                SourceConfig::Live(live) => Some(live.venue),
                SourceConfig::Capture { .. } => None,
            };
            let (scope, added) = match (&raw.venue, live) {
                (Some(v), Some(_)) => {
                    return Err(self.err(
                        key("venue"),
                        v.span(),
                        "a live source's kind is its venue",
                    ))
                }
                (None, Some(venue)) => (Scope::Venue(venue), None),
                (None, None) => (Scope::All, None),
                (Some(v), None) => match Venue::from_name(v.get_ref()) {
                    Some(venue) => (Scope::Venue(venue), None),
                    None if self.venues.get(v.get_ref()).is_some() => {
                        (Scope::Named, Some(v.get_ref().clone()))
                    }
                    None => {
                        let known: Vec<&str> = Venue::ALL
                            .iter()
                            .map(|v| v.name())
                            .chain(self.venues.names())
                            .collect();
                        return Err(self.err(
                            key("venue"),
                            v.span(),
                            format!("unknown venue, expected one of {}", known.join(", ")),
                        ));
                    }
                },
            };
            let name = match &raw.name {
                Some(n) => {
                    let ok = (1..=32).contains(&n.get_ref().len())
                        && n.get_ref()
                            .bytes()
                            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'));
                    if !ok {
                        return Err(self.err(
                            key("name"),
                            n.span(),
                            "must be 1 to 32 characters of a-z, 0-9, `_` or `-`",
                        ));
                    }
                    n.get_ref().clone()
                }
                None => match (&added, scope) {
                    (Some(v), _) => v.clone(),
                    (None, Scope::Venue(v)) => v.name().to_string(),
                    _ => "capture".to_string(),
                },
            };
            if feeds.iter().any(|f| f.name == name) {
                let span = raw.name.as_ref().map_or(raw.kind.span(), Spanned::span);
                return Err(self.err(
                    key("name"),
                    span,
                    format!("another source is named `{name}`: give each source its own `name`"),
                ));
            }
            if let Some(list) = &raw.instruments {
                if live.is_some() {
                    return Err(self.err(
                        key("instruments"),
                        list.span(),
                        "a live source feeds every instrument of its venue",
                    ));
                }
                for item in list.get_ref() {
                    let id = self.claimed(item, &key("instruments"), instruments)?;
                    if let Some(other) = owner[id.0 as usize] {
                        return Err(self.err(
                            key("instruments"),
                            item.span(),
                            format!("`{}` is fed by sources[{other}] already", item.get_ref()),
                        ));
                    }
                    owner[id.0 as usize] = Some(i);
                }
            } else if scope == Scope::Named {
                return Err(self.err(
                    key("venue"),
                    raw.venue.as_ref().map_or(raw.kind.span(), Spanned::span),
                    "an added venue's source needs `instruments = [...]`",
                ));
            }
            scopes.push((raw.instruments.is_none(), scope));
            feeds.push(FeedSpec {
                name,
                venue: added,
                instruments: Vec::new(),
            });
        }
        // The instruments no source names go to the one source without a list that takes them.
        for (n, instrument) in instruments.iter().enumerate() {
            if owner[n].is_some() {
                continue;
            }
            let mut takers = scopes.iter().enumerate().filter(|(_, &(implicit, scope))| {
                implicit && (scope == Scope::All || scope == Scope::Venue(instrument.venue))
            });
            let Some((i, _)) = takers.next() else {
                return Err(self.err(
                    "sources",
                    tables[0].kind.span(),
                    format!(
                        "no source feeds {}:{}; name it in a source's `instruments`",
                        instrument.venue.name(),
                        instrument.symbol
                    ),
                ));
            };
            if let Some((j, _)) = takers.next() {
                return Err(self.err(
                    format!("sources[{j}]"),
                    tables[j].kind.span(),
                    format!(
                        "{}:{} is fed by sources[{i}] too: name each source's `instruments`",
                        instrument.venue.name(),
                        instrument.symbol
                    ),
                ));
            }
            owner[n] = Some(i);
        }
        for (n, o) in owner.iter().enumerate() {
            if let Some(i) = *o {
                feeds[i].instruments.push(InstrumentId(n as u16));
            }
        }
        Ok((configs, feeds))
    }

    /// The instrument `SYMBOL` or `venue:SYMBOL` names.
    pub(super) fn claimed(
        &self,
        item: &Spanned<String>,
        key: &str,
        instruments: &InstrumentRegistry,
    ) -> Result<InstrumentId, ConfigError> {
        let text = item.get_ref();
        let (venue, symbol) = match text.split_once(':') {
            Some((v, s)) => match Venue::from_name(v) {
                Some(venue) => (Some(venue), s),
                None => return Err(self.err(key, item.span(), format!("unknown venue `{v}`"))),
            },
            None => (None, text.as_str()),
        };
        let mut found = instruments.iter().enumerate().filter(|(_, i)| {
            venue.is_none_or(|v| v == i.venue) && i.symbol.eq_ignore_ascii_case(symbol)
        });
        match (found.next(), found.next()) {
            (Some((n, _)), None) => Ok(InstrumentId(n as u16)),
            (Some(_), Some(_)) => Err(self.err(
                key,
                item.span(),
                format!("`{text}` names instruments of several venues: write venue:{symbol}"),
            )),
            (None, _) => Err(self.err(
                key,
                item.span(),
                format!("`{text}` is not a configured instrument"),
            )),
        }
    }
}
