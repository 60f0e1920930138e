//! The strict reader of `pulse-policy v1` text; the format is in the module's documentation.
//! Start-up code: it allocates freely, and refuses anything it does not fully understand.

use std::fmt;
use std::str::SplitAsciiWhitespace;

use super::error::{PolicyError, PolicyErrorKind as Kind};
use super::weights::{
    Activation, Layer, Normalize, PolicyWeights, FEATURES, MAX_HIDDEN_LAYERS, MAX_WIDTH, OUTPUTS,
};

const KEYWORDS: [&str; 7] = [
    "pulse-policy",
    "input",
    "layer",
    "normalize",
    "weights",
    "bias",
    "end",
];

/// Parses and checks the text of a weights file. Never panics; every refusal names its line.
pub fn parse(text: &str) -> Result<PolicyWeights, PolicyError> {
    let mut lines = Lines::new(text);
    header(&mut lines)?;
    input(&mut lines)?;
    let shapes = shapes(&mut lines)?;
    let normalize = normalize(&mut lines)?;
    let mut layers = Vec::with_capacity(shapes.len());
    let mut inputs = FEATURES;
    for (k, &(width, activation)) in shapes.iter().enumerate() {
        layers.push(layer(&mut lines, k, inputs, width, activation)?);
        inputs = width;
    }
    let end = lines.expect("end", format_args!("`end`"))?;
    args::<0>(end, "end")?;
    if let Some(line) = lines.next() {
        return Err(line.unexpected(format_args!("nothing after `end`")));
    }
    Ok(PolicyWeights { normalize, layers })
}

fn header(lines: &mut Lines<'_>) -> Result<(), PolicyError> {
    let Some(line) = lines.next() else {
        return Err(lines.missing(format_args!("`pulse-policy v1` (the file has no content)")));
    };
    let mut tokens = line.tokens();
    let magic = tokens.next();
    let version = tokens.next();
    match (magic, version, tokens.next()) {
        (Some("pulse-policy"), Some("v1"), None) => Ok(()),
        (Some("pulse-policy"), _, _) => Err(PolicyError::at(
            line.number,
            Kind::Header,
            format!(
                "unsupported version `{}`; this build reads `pulse-policy v1`",
                shown(line.text)
            ),
        )),
        _ => Err(PolicyError::at(
            line.number,
            Kind::Header,
            format!(
                "expected `pulse-policy v1` first, found `{}`",
                shown(line.text)
            ),
        )),
    }
}

fn input(lines: &mut Lines<'_>) -> Result<(), PolicyError> {
    let line = lines.expect("input", format_args!("`input {FEATURES}`"))?;
    let [n] = args(line, "input <features>")?;
    let n = whole(line, n)?;
    if n != FEATURES {
        return Err(PolicyError::at(
            line.number,
            Kind::Architecture,
            format!("the policy reads {FEATURES} features; the file says `input {n}`"),
        ));
    }
    Ok(())
}

/// The `layer` lines: widths and activations, hidden layers first, softmax last.
fn shapes(lines: &mut Lines<'_>) -> Result<Vec<(usize, Activation)>, PolicyError> {
    let mut shapes = Vec::new();
    loop {
        let Some(line) = lines.next() else {
            return Err(lines.missing(format_args!("`layer {OUTPUTS} softmax`")));
        };
        if line.keyword() != "layer" {
            if shapes.is_empty() || !line.is_keyword() {
                return Err(line.unexpected(format_args!("`layer`")));
            }
            return Err(PolicyError::at(
                line.number,
                Kind::Architecture,
                format!(
                    "`{}` before the output layer: the last layer must be `layer {OUTPUTS} softmax`",
                    line.keyword()
                ),
            ));
        }
        let [width, activation] = args(line, "layer <width> <relu|tanh|softmax>")?;
        let width = whole(line, width)?;
        if !(1..=MAX_WIDTH).contains(&width) {
            return Err(PolicyError::at(
                line.number,
                Kind::Bound,
                format!("a layer is 1 to {MAX_WIDTH} units wide, not {width}"),
            ));
        }
        let activation = match activation {
            "relu" => Activation::Relu,
            "tanh" => Activation::Tanh,
            "softmax" => Activation::Softmax,
            other => {
                return Err(PolicyError::at(
                    line.number,
                    Kind::Architecture,
                    format!(
                        "unknown activation `{}`; one of relu, tanh, softmax",
                        shown(other)
                    ),
                ))
            }
        };
        if activation == Activation::Softmax {
            if width != OUTPUTS {
                return Err(PolicyError::at(
                    line.number,
                    Kind::Architecture,
                    format!("the softmax layer has {OUTPUTS} units (buy, hold, sell), not {width}"),
                ));
            }
            shapes.push((width, activation));
            return Ok(shapes);
        }
        if shapes.len() == MAX_HIDDEN_LAYERS {
            return Err(PolicyError::at(
                line.number,
                Kind::Bound,
                format!("more than {MAX_HIDDEN_LAYERS} hidden layers"),
            ));
        }
        shapes.push((width, activation));
    }
}

fn normalize(lines: &mut Lines<'_>) -> Result<Option<Normalize>, PolicyError> {
    match lines.peek() {
        Some(line) if line.keyword() == "layer" => {
            return Err(PolicyError::at(
                line.number,
                Kind::Architecture,
                "a layer after the softmax layer, which must be the last".to_owned(),
            ))
        }
        Some(line) if line.keyword() == "normalize" => {}
        _ => return Ok(None),
    }
    let (_, mean) = lines.normalize_line("mean")?;
    let (line, std) = lines.normalize_line("std")?;
    if let Some((i, s)) = std.iter().enumerate().find(|(_, s)| **s <= 0.0) {
        return Err(PolicyError::at(
            line.number,
            Kind::Number,
            format!("feature {i}'s std is {s}; a standard deviation must be positive"),
        ));
    }
    Ok(Some(Normalize { mean, std }))
}

/// Layer `k`'s `weights k` block and `bias k` line.
fn layer(
    lines: &mut Lines<'_>,
    k: usize,
    inputs: usize,
    width: usize,
    activation: Activation,
) -> Result<Layer, PolicyError> {
    let line = lines.expect("weights", format_args!("`weights {k}`"))?;
    let [index] = args(line, "weights <layer>")?;
    line.check_index(whole(line, index)?, k)?;
    let mut weights = vec![0.0; width * inputs];
    for (j, row) in weights.chunks_exact_mut(inputs).enumerate() {
        let Some(line) = lines.next() else {
            return Err(lines.missing(format_args!(
                "row {} of `weights {k}` ({width} rows of {inputs})",
                j + 1
            )));
        };
        if line.is_keyword() {
            return Err(PolicyError::at(
                line.number,
                Kind::Count,
                format!("`weights {k}` has {j} rows; its layer has {width} units"),
            ));
        }
        values(
            line,
            line.tokens(),
            row,
            format_args!("row {} of `weights {k}`", j + 1),
        )?;
    }
    let Some(line) = lines.next() else {
        return Err(lines.missing(format_args!("`bias {k}`")));
    };
    if line.keyword().parse::<f64>().is_ok() {
        return Err(PolicyError::at(
            line.number,
            Kind::Count,
            format!("`weights {k}` has more than {width} rows; its layer has {width} units"),
        ));
    }
    if line.keyword() != "bias" {
        return Err(line.unexpected(format_args!("`bias {k}`")));
    }
    let mut tokens = line.tokens().skip(1);
    let Some(index) = tokens.next() else {
        return Err(PolicyError::at(
            line.number,
            Kind::Count,
            format!("`bias {k}` takes the layer's index and its {width} biases"),
        ));
    };
    line.check_index(whole(line, index)?, k)?;
    let mut biases = vec![0.0; width];
    values(line, tokens, &mut biases, format_args!("`bias {k}`"))?;
    Ok(Layer {
        inputs,
        activation,
        weights,
        biases,
    })
}

/// Exactly `N` values after the keyword.
fn args<'a, const N: usize>(line: Line<'a>, usage: &str) -> Result<[&'a str; N], PolicyError> {
    let mut out = [""; N];
    let mut n = 0;
    for token in line.tokens().skip(1) {
        if n < N {
            out[n] = token;
        }
        n += 1;
    }
    if n != N {
        return Err(PolicyError::at(
            line.number,
            Kind::Count,
            format!("`{usage}` takes {N} value(s) after the keyword, found {n}"),
        ));
    }
    Ok(out)
}

/// Fills `out` from `tokens`, which must hold exactly `out.len()` finite numbers.
fn values<'a>(
    line: Line<'a>,
    tokens: impl Iterator<Item = &'a str>,
    out: &mut [f64],
    what: fmt::Arguments<'_>,
) -> Result<(), PolicyError> {
    let mut n = 0;
    for token in tokens {
        if let Some(slot) = out.get_mut(n) {
            *slot = number(line, token)?;
        }
        n += 1;
    }
    if n != out.len() {
        return Err(PolicyError::at(
            line.number,
            Kind::Count,
            format!("{what} has {n} values, expected {}", out.len()),
        ));
    }
    Ok(())
}

fn number(line: Line<'_>, token: &str) -> Result<f64, PolicyError> {
    match token.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(PolicyError::at(
            line.number,
            Kind::NotFinite,
            format!(
                "`{}` is not finite (NaN, an infinity, or beyond f64)",
                shown(token)
            ),
        )),
        Err(_) => Err(PolicyError::at(
            line.number,
            Kind::Number,
            format!("`{}` is not a number", shown(token)),
        )),
    }
}

fn whole(line: Line<'_>, token: &str) -> Result<usize, PolicyError> {
    token.parse::<usize>().map_err(|_| {
        PolicyError::at(
            line.number,
            Kind::Number,
            format!("`{}` is not a whole number", shown(token)),
        )
    })
}

/// At most 40 characters of `text`, for messages about arbitrary input.
fn shown(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(40) {
        Some((end, _)) => format!("{}...", &text[..end]),
        None => text.to_owned(),
    }
}

/// A line that is not blank and not a comment.
#[derive(Clone, Copy)]
struct Line<'a> {
    number: usize,
    text: &'a str,
}

impl<'a> Line<'a> {
    fn tokens(self) -> SplitAsciiWhitespace<'a> {
        self.text.split_ascii_whitespace()
    }

    fn keyword(self) -> &'a str {
        self.tokens().next().unwrap_or("")
    }

    fn is_keyword(self) -> bool {
        KEYWORDS.contains(&self.keyword())
    }

    /// `found` where another line was expected: out of order when it is one of the format's
    /// lines, unknown otherwise.
    fn unexpected(self, expected: fmt::Arguments<'_>) -> PolicyError {
        let kind = if self.is_keyword() {
            Kind::OutOfOrder
        } else {
            Kind::UnknownLine
        };
        let found = shown(self.text);
        PolicyError::at(
            self.number,
            kind,
            format!("expected {expected}, found `{found}`"),
        )
    }

    fn check_index(self, index: usize, k: usize) -> Result<(), PolicyError> {
        if index != k {
            return Err(PolicyError::at(
                self.number,
                Kind::OutOfOrder,
                format!(
                    "expected layer {k}'s `{}`, found `{}`",
                    self.keyword(),
                    shown(self.text)
                ),
            ));
        }
        Ok(())
    }
}

struct Lines<'a> {
    rest: std::iter::Enumerate<std::str::Lines<'a>>,
    peeked: Option<Line<'a>>,
    /// The number of the last line read, blank or not.
    last: usize,
}

impl<'a> Lines<'a> {
    fn new(text: &'a str) -> Lines<'a> {
        Lines {
            rest: text.lines().enumerate(),
            peeked: None,
            last: 0,
        }
    }

    fn next(&mut self) -> Option<Line<'a>> {
        if let Some(line) = self.peeked.take() {
            return Some(line);
        }
        for (index, text) in self.rest.by_ref() {
            self.last = index + 1;
            let trimmed = text.trim_start_matches(|c: char| c.is_ascii_whitespace());
            if !trimmed.is_empty() && !trimmed.starts_with('#') {
                return Some(Line {
                    number: index + 1,
                    text,
                });
            }
        }
        None
    }

    fn peek(&mut self) -> Option<Line<'a>> {
        if self.peeked.is_none() {
            self.peeked = self.next();
        }
        self.peeked
    }

    /// The next line, which must start with `keyword`.
    fn expect(
        &mut self,
        keyword: &str,
        expected: fmt::Arguments<'_>,
    ) -> Result<Line<'a>, PolicyError> {
        match self.next() {
            Some(line) if line.keyword() == keyword => Ok(line),
            Some(line) => Err(line.unexpected(expected)),
            None => Err(self.missing(expected)),
        }
    }

    /// The next line, which must be `normalize <which>` and 16 values, and its values.
    fn normalize_line(&mut self, which: &str) -> Result<(Line<'a>, [f64; FEATURES]), PolicyError> {
        let line = self.expect(
            "normalize",
            format_args!("`normalize {which} <{FEATURES} values>`"),
        )?;
        match line.tokens().nth(1) {
            Some(found) if found == which => {}
            Some("std") => {
                return Err(PolicyError::at(
                    line.number,
                    Kind::OutOfOrder,
                    "`normalize std` before `normalize mean`".to_owned(),
                ))
            }
            _ => {
                return Err(PolicyError::at(
                    line.number,
                    Kind::UnknownLine,
                    format!(
                        "expected `normalize {which} <{FEATURES} values>`, found `{}`",
                        shown(line.text)
                    ),
                ))
            }
        }
        let mut out = [0.0; FEATURES];
        let tokens = line.tokens().skip(2);
        values(line, tokens, &mut out, format_args!("`normalize {which}`"))?;
        Ok((line, out))
    }

    /// The file ended; `expected` was still to come.
    fn missing(&self, expected: fmt::Arguments<'_>) -> PolicyError {
        PolicyError::at(
            self.last + 1,
            Kind::Missing,
            format!("the file ends before {expected}"),
        )
    }
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
