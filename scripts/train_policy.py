#!/usr/bin/env python3
"""Trains the policy agent's small network offline and writes a `pulse-policy v1` weights file.

Plain Python 3 (3.8 or later), standard library only: it runs anywhere the repository does.
The network is the one the engine evaluates (engine/src/policy): 16 features, normalized by the
training set's mean and standard deviation, then hidden layers (relu or tanh), then three
softmax outputs, buy, hold and sell. Training is per-sample SGD on the cross-entropy, with a
fixed seed: the same data, options and seed write the same file, byte for byte.

  # the shipped example, from features the engine exported (configs/policy/README.md):
  pulse features --config configs/demo.toml \
      --input data/binance_spot_btcusdt_2024-08-08.cap.gz --out /tmp/spot.csv
  pulse features --config configs/policy/features-usdm.toml \
      --input data/binance_usdm_btcusdt_2024-08-08.cap.gz --out /tmp/usdm.csv
  python3 scripts/train_policy.py --csv /tmp/spot.csv --csv /tmp/usdm.csv --label label_50 \
      --out configs/policy/example.policy
  # the synthetic sample as CSV, to see the plain format:
  python3 scripts/train_policy.py --synthetic 20 --write-csv sample.csv

Two CSV layouts are read (scripts/policy_data.py). What `pulse features` writes, by column
name: the engine's 16 features, `segment`, `time_ns`, and the label column `--label` picks
(`label_<h>`, the sign of the mid's move over h book events) with its `ret_bps_<h>`; rows not
`ready` or without a label are skipped. Such data is split in time: within each capture the
first `--train-fraction` (0.7) of its span trains, less the last h rows, and the rest is held
out; the out-of-sample table against naive baselines is printed on stdout. Or the plain
layout: 17 columns, the 16 features in engine order (any names; copied into the weights file
as a comment), then `label` (-1, 0 or 1, learned as sell, hold and buy), split at random 4/5
to 1/5 like the synthetic sample.
"""

import argparse
import csv
import math
import operator
import os
import random
import sys

from policy_data import (CLASS_OF_LABEL, FEATURES, Row, fail, horizon_of, read_csv,
                         split_by_time, table)

MAX_WIDTH = 256
MAX_HIDDEN_LAYERS = 4
DIGITS = 9


# Synthetic features: each drawn around its own mean at its own scale (as real features are,
# which is what the normalization is for); the label follows a hidden rule with interactions
# and noise, with a dead band that makes about a third of the rows hold.
SYNTHETIC_SCALES = [(0.0, 1.0), (5.0, 2.0), (-3.0, 10.0), (50.0, 15.0), (0.0, 0.01),
                    (100.0, 30.0), (0.0, 1.0), (0.5, 0.3), (2.0, 0.5), (0.0, 8.0),
                    (0.0, 1.0), (1.0, 0.1), (0.0, 5.0), (-1.0, 1.0), (0.0, 1.0), (10.0, 3.0)]


def synthetic(n, rng):
    rows = []
    for _ in range(n):
        z = [rng.gauss(0.0, 1.0) for _ in range(FEATURES)]
        features = [m + s * v for (m, s), v in zip(SYNTHETIC_SCALES, z)]
        score = (0.9 * z[0] - 0.6 * z[2] + 0.5 * z[3] * z[5] + 0.6 * max(z[6], 0.0)
                 - 0.4 * abs(z[9]) + 0.3 + rng.gauss(0.0, 0.3))
        label = 1 if score > 0.45 else -1 if score < -0.45 else 0
        rows.append(Row(features, CLASS_OF_LABEL[label]))
    return [f"f{i}" for i in range(FEATURES)], rows


def write_csv(path, names, rows):
    label_of_class = {c: l for l, c in CLASS_OF_LABEL.items()}
    with open(path, "w", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(names + ["label"])
        for r in rows:
            out.writerow([repr(v) for v in r.x] + [label_of_class[r.cls]])


class Network:
    """Layers of (rows of weights, biases, activation); the last is softmax."""

    def __init__(self, widths, activation, rng):
        self.layers = []
        inputs = FEATURES
        for k, width in enumerate(widths):
            last = k == len(widths) - 1
            act = "softmax" if last else activation
            gain = 2.0 if act == "relu" else 1.0
            sd = math.sqrt(gain / inputs)
            rows = [[rng.gauss(0.0, sd) for _ in range(inputs)] for _ in range(width)]
            self.layers.append((rows, [0.0] * width, act))
            inputs = width

    def forward(self, x):
        """Every layer's output, the input first; the last is the probabilities."""
        outs = [x]
        for rows, biases, act in self.layers:
            z = [b + sum(map(operator.mul, row, x)) for row, b in zip(rows, biases)]
            if act == "relu":
                x = [v if v > 0.0 else 0.0 for v in z]
            elif act == "tanh":
                x = [math.tanh(v) for v in z]
            else:
                top = max(z)
                e = [math.exp(v - top) for v in z]
                total = sum(e)
                x = [v / total for v in e]
            outs.append(x)
        return outs

    def step(self, x, cls, lr):
        """One SGD step on the cross-entropy of one sample."""
        outs = self.forward(x)
        # Softmax with cross-entropy: the gradient at the logits is probs - one_hot.
        grad = list(outs[-1])
        grad[cls] -= 1.0
        for k in range(len(self.layers) - 1, -1, -1):
            rows, biases, act = self.layers[k]
            inputs = outs[k]
            if k > 0:
                back = [0.0] * len(inputs)
                for row, g in zip(rows, grad):
                    if g != 0.0:
                        back = [acc + w * g for acc, w in zip(back, row)]
                below = self.layers[k - 1][2]
                if below == "relu":
                    back = [g if v > 0.0 else 0.0 for g, v in zip(back, inputs)]
                else:
                    back = [g * (1.0 - v * v) for g, v in zip(back, inputs)]
            for j, g in enumerate(grad):
                if g != 0.0:
                    step = lr * g
                    rows[j] = [w - step * v for w, v in zip(rows[j], inputs)]
                    biases[j] -= step
            if k > 0:
                grad = back

    def round(self):
        """Rounds every weight to the digits the file keeps, so that the file is the network
        that was evaluated."""
        for rows, biases, _ in self.layers:
            for row in rows:
                row[:] = [rounded(w) for w in row]
            biases[:] = [rounded(b) for b in biases]

    def accuracy(self, rows):
        if not rows:
            return float("nan")
        hits = 0
        for x, cls in rows:
            hits += self.predict(x) == cls
        return hits / len(rows)

    def predict(self, x):
        """The class the engine acts on: buy or sell only when strictly more probable than both
        others, else hold (engine/strategy/src/policy/network.rs)."""
        buy, hold, sell = self.forward(x)[-1]
        if buy > hold and buy > sell:
            return 0
        if sell > hold and sell > buy:
            return 2
        return 1


def rounded(v):
    return float(format(v, f".{DIGITS}g"))


def fmt(values):
    return " ".join(repr(v) for v in values)


def normalization(rows):
    n = len(rows)
    mean = [rounded(math.fsum(r.x[i] for r in rows) / n) for i in range(FEATURES)]
    std = []
    for i in range(FEATURES):
        var = math.fsum((r.x[i] - mean[i]) ** 2 for r in rows) / n
        std.append(rounded(math.sqrt(var)) if var > 0.0 else 1.0)
    return mean, std


def write_policy(path, net, mean, std, names, notes):
    lines = ["pulse-policy v1"]
    lines += [f"# {note}" for note in notes]
    lines.append("# features: " + " ".join(names))
    lines.append(f"input {FEATURES}")
    for rows, _, act in net.layers:
        lines.append(f"layer {len(rows)} {act}")
    lines.append("normalize mean " + fmt(mean))
    lines.append("normalize std " + fmt(std))
    for k, (rows, biases, _) in enumerate(net.layers):
        lines.append(f"weights {k}")
        lines += [fmt(row) for row in rows]
        lines.append(f"bias {k} " + fmt(biases))
    lines.append("end")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def parse_hidden(text):
    try:
        widths = [int(w) for w in text.split(",")] if text else []
    except ValueError:
        fail(f"--hidden {text}: widths are whole numbers, e.g. 32,32")
    if len(widths) > MAX_HIDDEN_LAYERS or not all(1 <= w <= MAX_WIDTH for w in widths):
        fail(f"--hidden {text}: at most {MAX_HIDDEN_LAYERS} layers of 1 to {MAX_WIDTH} units")
    return widths


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--csv", action="append",
                        help="training data (repeatable): `pulse features` output, or 16 "
                             "feature columns and `label`")
    source.add_argument("--synthetic", type=int, metavar="N", help="N synthetic rows instead")
    ap.add_argument("--label", help="the label column of an export, e.g. label_50")
    ap.add_argument("--train-fraction", type=float, default=0.7,
                    help="share of each capture's time span trained on (default 0.7)")
    ap.add_argument("--out", help="the weights file to write")
    ap.add_argument("--write-csv", metavar="PATH", help="also write the data as CSV")
    ap.add_argument("--hidden", default="32,32", help="hidden widths (default 32,32)")
    ap.add_argument("--activation", choices=["relu", "tanh"], default="relu")
    ap.add_argument("--epochs", type=int, default=15)
    ap.add_argument("--lr", type=float, default=0.02, help="learning rate at the start")
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args()
    if not args.out and not args.write_csv:
        fail("nothing to do: give --out, --write-csv or both")
    if not 0.0 < args.train_fraction < 1.0:
        fail("--train-fraction is between 0 and 1")
    widths = parse_hidden(args.hidden) + [3]

    rng = random.Random(args.seed)
    if args.csv:
        names, rows, skipped = None, [], 0
        for k, path in enumerate(args.csv):
            file_names, file_rows, file_skipped = read_csv(path, args.label, k)
            if names is not None and file_names != names:
                fail(f"{path}: its features are not those of {args.csv[0]}")
            names, skipped = file_names, skipped + file_skipped
            rows += file_rows
        # Names only: the same files anywhere write the same weights file.
        origin = " ".join(f"--csv {os.path.basename(path)}" for path in args.csv)
        if args.label:
            origin += f" --label {args.label}"
        if args.train_fraction != 0.7:
            origin += f" --train-fraction {args.train_fraction}"
    else:
        if args.synthetic < 1:
            fail("--synthetic wants a positive number of rows")
        names, rows = synthetic(args.synthetic, rng)
        origin, skipped = f"--synthetic {args.synthetic}", 0
    if args.write_csv:
        write_csv(args.write_csv, names, rows)
    if not args.out:
        return
    if len(rows) < 10:
        fail(f"{len(rows)} rows; training wants at least 10")

    timed = any(r.time for r in rows)
    if timed:
        # Time-ordered: the past trains, the future tests (policy_data.split_by_time).
        purge = max(horizon_of(args.label or ""), 0)
        train, held = split_by_time(rows, args.train_fraction, purge)
        split = (f"split in time: the first {args.train_fraction:g} of each capture's span "
                 f"trained on (its last {purge} rows dropped), the rest held out")
    else:
        order = list(range(len(rows)))
        rng.shuffle(order)
        cut = len(rows) * 4 // 5
        train = [rows[i] for i in order[:cut]]
        held = [rows[i] for i in order[cut:]]
        split = "split at random: 4/5 trained on, 1/5 held out"
    if len(train) < 10 or not held:
        fail(f"{len(train)} rows to train on and {len(held)} to test: too few")
    mean, std = normalization(train)

    def normalized(x):
        return [(v - m) / s for v, m, s in zip(x, mean, std)]

    train_x = [(normalized(r.x), r.cls) for r in train]
    held_x = [(normalized(r.x), r.cls) for r in held]
    net = Network(widths, args.activation, rng)
    for epoch in range(args.epochs):
        lr = args.lr / (1.0 + 0.2 * epoch)
        rng.shuffle(train_x)
        for x, cls in train_x:
            net.step(x, cls, lr)
        print(f"epoch {epoch + 1}/{args.epochs}: train accuracy {net.accuracy(train_x):.3f}",
              file=sys.stderr)
    net.round()
    counts = [sum(1 for r in rows if r.cls == k) for k in range(3)]
    notes = [
        f"written by scripts/train_policy.py {origin} --hidden {args.hidden} "
        f"--activation {args.activation} --epochs {args.epochs} --lr {args.lr} "
        f"--seed {args.seed}",
        f"{len(rows)} rows (buy {counts[0]}, hold {counts[1]}, sell {counts[2]}"
        + (f"; {skipped} not ready or unlabelled, skipped" if skipped else "") + "): "
        f"{len(train)} trained on, {len(held)} held out; accuracy "
        f"{net.accuracy(train_x):.3f} trained, {net.accuracy(held_x):.3f} held out",
        split,
    ]
    write_policy(args.out, net, mean, std, names, notes)
    print(f"wrote {args.out}: " + notes[1], file=sys.stderr)
    if timed:
        print(table(held, train, [("policy", lambda r: net.predict(normalized(r.x)))]))


if __name__ == "__main__":
    main()
