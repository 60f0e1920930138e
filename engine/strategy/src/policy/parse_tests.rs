use super::super::testing::{policy_text, Rng};
use super::super::{Activation, PolicyErrorKind as Kind, PolicyNetwork};
use super::parse;

/// 16 -> 2 relu -> 3 softmax with normalization, 16 lines:
/// 1 header, 2 input, 3-4 layers, 5-6 normalize, 7 `weights 0`, 8-9 rows, 10 `bias 0`,
/// 11 `weights 1`, 12-14 rows, 15 `bias 1`, 16 `end`.
fn small() -> String {
    policy_text(&mut Rng::new(1), &[(2, "relu")], true)
}

/// `text` with line `n` (1-based) replaced by `with`, or removed when `with` is `None`.
fn edit(text: &str, n: usize, with: Option<&str>) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    match with {
        Some(line) => lines[n - 1] = line,
        None => {
            lines.remove(n - 1);
        }
    }
    lines.join("\n") + "\n"
}

fn insert(text: &str, after: usize, line: &str) -> String {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.insert(after, line);
    lines.join("\n") + "\n"
}

fn refused(text: &str) -> (Kind, usize) {
    let err = parse(text).expect_err("the text is refused");
    let line = err.line.expect("a parse error names its line");
    assert!(
        err.to_string().starts_with(&format!("line {line}: ")),
        "{err}"
    );
    (err.kind, line)
}

fn row(values: usize) -> String {
    vec!["0.5"; values].join(" ")
}

#[test]
fn a_good_file_parses_to_its_shape_and_exact_values() {
    let text = small();
    assert_eq!(text.lines().count(), 16);
    let weights = parse(&text).unwrap();
    let layers = weights.layers();
    assert_eq!(layers.len(), 2);
    assert_eq!(
        (
            layers[0].inputs(),
            layers[0].outputs(),
            layers[0].activation()
        ),
        (16, 2, Activation::Relu)
    );
    assert_eq!(
        (
            layers[1].inputs(),
            layers[1].outputs(),
            layers[1].activation()
        ),
        (2, 3, Activation::Softmax)
    );
    let lines: Vec<&str> = text.lines().collect();
    let row_1: Vec<f64> = lines[8].split(' ').map(|v| v.parse().unwrap()).collect();
    assert_eq!(layers[0].row(1), &row_1[..]);
    let std: Vec<f64> = lines[5]
        .split(' ')
        .skip(2)
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(&weights.normalize().unwrap().std()[..], &std[..]);
    let bias_1: Vec<f64> = lines[14]
        .split(' ')
        .skip(2)
        .map(|v| v.parse().unwrap())
        .collect();
    assert_eq!(layers[1].biases(), &bias_1[..]);
}

#[test]
fn comments_blank_lines_tabs_and_crlf_are_accepted() {
    let text = small();
    let mut loose = String::from("# a comment before the header\n\n");
    for line in text.lines() {
        loose.push_str(&line.replace(' ', " \t "));
        loose.push_str("\r\n   # indented comment\r\n\r\n");
    }
    assert_eq!(parse(&loose).unwrap(), parse(&text).unwrap());
}

#[test]
fn normalization_is_optional_and_hidden_layers_may_be_none_or_four() {
    let mut rng = Rng::new(2);
    let none = parse(&policy_text(&mut rng, &[], false)).unwrap();
    assert!(none.normalize().is_none());
    assert_eq!(none.layers().len(), 1);
    let four = [(256, "relu"), (7, "tanh"), (1, "relu"), (40, "tanh")];
    let deep = parse(&policy_text(&mut rng, &four, true)).unwrap();
    assert_eq!(deep.layers().len(), 5);
    assert_eq!(deep.layers()[4].inputs(), 40);
}

/// Each case: what it breaks, the text, and the kind and line of the refusal.
#[rustfmt::skip]
fn bad_files() -> Vec<(&'static str, String, Kind, usize)> {
    let s = small();
    let mut swapped: Vec<&str> = s.lines().collect();
    swapped.swap(4, 5);
    let swapped = swapped.join("\n");
    let means = |values: &str| format!("normalize mean {values}");
    let stds = |values: &str| format!("normalize std {values}");
    vec![
        ("empty", String::new(), Kind::Missing, 1),
        ("only comments", "# x\n\n".into(), Kind::Missing, 3),
        ("version", edit(&s, 1, Some("pulse-policy v2")), Kind::Header, 1),
        ("no header", edit(&s, 1, None), Kind::Header, 1),
        ("input 17", edit(&s, 2, Some("input 17")), Kind::Architecture, 2),
        ("input bare", edit(&s, 2, Some("input")), Kind::Count, 2),
        ("no input", edit(&s, 2, None), Kind::OutOfOrder, 2),
        ("too wide", edit(&s, 3, Some("layer 257 relu")), Kind::Bound, 3),
        ("empty layer", edit(&s, 3, Some("layer 0 relu")), Kind::Bound, 3),
        ("width", edit(&s, 3, Some("layer 2.5 relu")), Kind::Number, 3),
        ("negative width", edit(&s, 3, Some("layer -2 relu")), Kind::Number, 3),
        ("huge width", edit(&s, 3, Some("layer 99999999999999999999 relu")), Kind::Number, 3),
        ("activation", edit(&s, 3, Some("layer 2 sigmoid")), Kind::Architecture, 3),
        ("layer words", edit(&s, 3, Some("layer 2")), Kind::Count, 3),
        ("softmax hidden", edit(&s, 3, Some("layer 3 softmax")), Kind::Architecture, 4),
        ("softmax width", edit(&s, 4, Some("layer 4 softmax")), Kind::Architecture, 4),
        ("no output layer", edit(&s, 4, None), Kind::Architecture, 4),
        ("after softmax", insert(&s, 4, "layer 2 relu"), Kind::Architecture, 5),
        ("unknown line", insert(&s, 4, "dropout 0.5"), Kind::UnknownLine, 5),
        ("std first", swapped, Kind::OutOfOrder, 5),
        ("no std", edit(&s, 6, None), Kind::OutOfOrder, 6),
        ("normalize what", edit(&s, 5, Some("normalize median 1")), Kind::UnknownLine, 5),
        ("15 means", edit(&s, 5, Some(&means(&row(15)))), Kind::Count, 5),
        ("17 stds", edit(&s, 6, Some(&stds(&row(17)))), Kind::Count, 6),
        ("NaN mean", edit(&s, 5, Some(&means(&format!("NaN {}", row(15))))), Kind::NotFinite, 5),
        ("zero std", edit(&s, 6, Some(&stds(&format!("{} 0", row(15))))), Kind::Number, 6),
        ("weights index", edit(&s, 7, Some("weights 1")), Kind::OutOfOrder, 7),
        ("weights words", edit(&s, 7, Some("weights")), Kind::Count, 7),
        ("bias for weights", edit(&s, 7, Some("bias 0 0.5 0.5")), Kind::OutOfOrder, 7),
        ("short row", edit(&s, 8, Some(&row(15))), Kind::Count, 8),
        ("long row", edit(&s, 8, Some(&row(17))), Kind::Count, 8),
        ("word in row", edit(&s, 8, Some(&format!("{} abc", row(15)))), Kind::Number, 8),
        ("inf in row", edit(&s, 9, Some(&format!("{} -inf", row(15)))), Kind::NotFinite, 9),
        ("overflow in row", edit(&s, 9, Some(&format!("1e999 {}", row(15)))), Kind::NotFinite, 9),
        ("missing row", edit(&s, 9, None), Kind::Count, 9),
        ("extra row", insert(&s, 9, &row(16)), Kind::Count, 10),
        ("short bias", edit(&s, 10, Some("bias 0 0.5")), Kind::Count, 10),
        ("bias bare", edit(&s, 10, Some("bias")), Kind::Count, 10),
        ("bias index", edit(&s, 10, Some("bias 1 0.5 0.5")), Kind::OutOfOrder, 10),
        ("no bias", edit(&s, 10, None), Kind::OutOfOrder, 10),
        ("rows of layer 1", edit(&s, 12, Some(&row(16))), Kind::Count, 12),
        ("truncated", s.lines().take(12).collect::<Vec<_>>().join("\n"), Kind::Missing, 13),
        ("no last bias", edit(&s, 15, None), Kind::OutOfOrder, 15),
        ("no end", edit(&s, 16, None), Kind::Missing, 16),
        ("end words", edit(&s, 16, Some("end 1")), Kind::Count, 16),
        ("trailing line", insert(&s, 16, "0.5"), Kind::UnknownLine, 17),
        ("trailing section", insert(&s, 16, "weights 2"), Kind::OutOfOrder, 17),
    ]
}

#[test]
fn each_kind_of_bad_file_is_refused_at_its_line() {
    for (name, text, kind, line) in bad_files() {
        assert_eq!(refused(&text), (kind, line), "{name}");
    }
}

#[test]
fn a_fifth_hidden_layer_is_over_the_bound() {
    let hidden = [(2, "relu"); 5];
    let text = policy_text(&mut Rng::new(3), &hidden, false);
    assert_eq!(refused(&text), (Kind::Bound, 7));
}

#[test]
fn every_truncation_and_every_dropped_line_is_refused_without_panicking() {
    let text = small();
    let lines = text.lines().count();
    for end in 0..text.len() - 1 {
        let cut = &text[..end];
        let (_, line) = refused(cut);
        assert!(
            (1..=cut.lines().count() + 1).contains(&line),
            "cut at {end}"
        );
    }
    for n in 1..=lines {
        let (_, line) = refused(&edit(&text, n, None));
        assert!((1..=lines).contains(&line), "line {n} dropped");
    }
}

#[test]
fn a_long_token_is_shortened_in_the_message() {
    for (token, kind) in [("7", Kind::NotFinite), ("x", Kind::Number)] {
        let text = edit(&small(), 8, Some(&token.repeat(10_000)));
        let err = parse(&text).unwrap_err();
        assert_eq!(err.kind, kind);
        assert!(err.message.len() < 100, "{err}");
    }
}

#[test]
fn an_unreadable_file_is_an_io_error_without_a_line() {
    let err = match PolicyNetwork::load(std::path::Path::new("/nonexistent/x.policy")) {
        Ok(_) => panic!("a missing file loads"),
        Err(err) => err,
    };
    assert_eq!((err.kind, err.line), (Kind::Io, None));
    assert!(err.to_string().contains("/nonexistent/x.policy"), "{err}");
}
