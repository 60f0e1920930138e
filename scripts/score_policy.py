#!/usr/bin/env python3
"""Scores a `pulse-policy v1` weights file out of sample against naive baselines.

Plain Python 3, standard library only. It reads the CSVs `pulse features` wrote, splits them in
time exactly as scripts/train_policy.py does (the same --label and --train-fraction), and prints
the table for the held-out rows: the policy as the engine acts on it (buy or sell only when
strictly more probable than both others), always hold, the training rows' majority class, the
sign of the last return and its opposite. Columns: accuracy over every held-out row; calls (buy
or sell); hit rate, the calls whose side the mid then moved to; edge, the mean forward return of
a call in its own direction, in bps of the mid, before fees and spread.

  python3 scripts/score_policy.py configs/policy/example.policy \\
      --csv spot.csv --csv usdm.csv --label label_50
"""

import argparse
import math

from policy_data import FEATURES, fail, horizon_of, read_csv, split_by_time, table


def load_policy(path):
    """(mean, std, layers) of a weights file; each layer is (rows, biases, activation)."""
    try:
        with open(path) as f:
            lines = [l.split() for l in f if l.strip() and not l.lstrip().startswith("#")]
    except OSError as err:
        fail(f"{path}: {err.strerror}")
    if not lines or lines[0] != ["pulse-policy", "v1"] or lines[-1] != ["end"]:
        fail(f"{path}: not a whole pulse-policy v1 file")
    mean, std, shapes, layers = [0.0] * FEATURES, [1.0] * FEATURES, [], []
    i = 1
    while i < len(lines) - 1:
        words = lines[i]
        if words[0] == "layer":
            shapes.append((int(words[1]), words[2]))
        elif words[:2] == ["normalize", "mean"]:
            mean = [float(v) for v in words[2:]]
        elif words[:2] == ["normalize", "std"]:
            std = [float(v) for v in words[2:]]
        elif words[0] == "weights":
            width, act = shapes[len(layers)]
            rows = [[float(v) for v in row] for row in lines[i + 1:i + 1 + width]]
            bias = lines[i + 1 + width]
            if bias[:2] != ["bias", words[1]]:
                fail(f"{path}: `bias {words[1]}` expected after its weights")
            layers.append((rows, [float(v) for v in bias[2:]], act))
            i += width + 1
        i += 1
    if len(layers) != len(shapes):
        fail(f"{path}: {len(shapes)} layers declared, {len(layers)} given")
    return mean, std, layers


def predictor(path):
    try:
        mean, std, layers = load_policy(path)
    except (ValueError, IndexError) as err:
        fail(f"{path}: not a valid pulse-policy v1 file ({err}); `pulse check-config` on a "
             "config naming it says which line")

    def predict(r):
        x = [(v - m) / s for v, m, s in zip(r.x, mean, std)]
        for rows, biases, act in layers:
            z = [b + sum(w * v for w, v in zip(row, x)) for row, b in zip(rows, biases)]
            if act == "relu":
                x = [v if v > 0.0 else 0.0 for v in z]
            elif act == "tanh":
                x = [math.tanh(v) for v in z]
            else:
                x = z
        buy, hold, sell = x
        if buy > hold and buy > sell:
            return 0
        if sell > hold and sell > buy:
            return 2
        return 1

    return predict


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("policy", help="the weights file")
    ap.add_argument("--csv", action="append", required=True, help="`pulse features` output")
    ap.add_argument("--label", help="the label column, e.g. label_50")
    ap.add_argument("--train-fraction", type=float, default=0.7)
    args = ap.parse_args()
    rows = []
    for k, path in enumerate(args.csv):
        rows += read_csv(path, args.label, k)[1]
    train, test = split_by_time(rows, args.train_fraction, horizon_of(args.label or ""))
    if not test or not train:
        fail("nothing to score: the split leaves no training or no test rows")
    print(table(test, train, [(f"policy ({args.policy})", predictor(args.policy))]))


if __name__ == "__main__":
    main()
