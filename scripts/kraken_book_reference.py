#!/usr/bin/env python3
"""An independent reference for `pulse replay` on Kraken captures (v2 `kraken:ws` and v1
`kraken-v1:ws` lines): it rebuilds every book with plain dicts and Python's Decimal, no Pulse
code, following Kraken's book guides (docs.kraken.com/api/docs/guides/spot-ws-book-v1 and
spot-ws-book-v2):

  a snapshot replaces the book; an update's entries apply in the order given (a repeated
  price: the last wins; qty 0 deletes); each side is then truncated to the subscribed depth
  (v2: the subscription reply's `depth`, 10 by default; v1: the channel name, `book-1000`);
  then the CRC32 of the top ten asks ascending and top ten bids descending, each price and
  qty written at the pair's decimals with '.' and leading zeros removed, must equal the
  message's. A mismatch leaves the book stale, ignoring updates until the next snapshot.

A pair's decimals: v2, the `instrument` channel's price_precision / qty_precision; v1, those
of its wire strings.

    scripts/kraken_book_reference.py CAPTURE

prints one JSON object per pair (in order of first book message): snapshots, applied and
dropped updates, resyncs, checksum ok / mismatch, trades, tickers, whether it ends stale, and
its top five levels a side as decimal strings at its decimals.
"""
import json
import sys
import zlib
from decimal import Decimal

TOP = 5


class Pair:
    def __init__(self, symbol, depth, decimals):
        self.symbol, self.depth, self.decimals = symbol, depth, decimals
        self.asks, self.bids = {}, {}
        self.synced = False
        self.counts = dict(snapshots=0, applied=0, dropped=0, resyncs=0, checksum_ok=0,
                           checksum_mismatch=0, trades=0, tickers=0)

    def side(self, name):
        return self.asks if name == "asks" else self.bids

    def sorted(self, name):
        return sorted(self.side(name).items(), reverse=(name == "bids"))

    def checksum(self):
        pp, qp = self.decimals
        text = ""
        for name in ("asks", "bids"):
            for px, q in self.sorted(name)[:10]:
                text += str(int(px.scaleb(pp))) + str(int(q.scaleb(qp)))
        return zlib.crc32(text.encode())

    def on_book(self, snapshot, entries, expected):
        c = self.counts
        if snapshot:
            self.asks, self.bids = {}, {}
        elif not self.synced:
            c["dropped"] += 1
            return
        for name, px, q in entries:
            if q == 0:
                self.side(name).pop(px, None)
            else:
                self.side(name)[px] = q
        for name in ("asks", "bids"):
            for px, _ in self.sorted(name)[self.depth:]:
                del self.side(name)[px]
        if expected is not None and self.checksum() != expected:
            c["checksum_mismatch"] += 1
            self.synced = False
            return
        if expected is not None:
            c["checksum_ok"] += 1
        if snapshot:
            if c["snapshots"] > 0 and not self.synced:
                c["resyncs"] += 1
            c["snapshots"] += 1
            self.synced = True
        else:
            c["applied"] += 1

    def report(self):
        pp, qp = self.decimals
        level = lambda l: ["%.*f" % (pp, l[0]), "%.*f" % (qp, l[1])]
        return dict(symbol=self.symbol, **self.counts, stale=not self.synced,
                    top=dict(bids=[level(l) for l in self.sorted("bids")[:TOP]],
                             asks=[level(l) for l in self.sorted("asks")[:TOP]]))


def decimals(text):
    return len(text.split(".")[1]) if "." in text else 0


def main():
    pairs, order, precision, depth = {}, [], {}, {}

    def pair(symbol, d, dec):
        if symbol not in pairs:
            pairs[symbol] = Pair(symbol, d, dec)
            order.append(symbol)
        return pairs[symbol]

    v1_lines = []
    with open(sys.argv[1]) as f:
        for line in f:
            _, source, payload = line.rstrip("\n").split("\t", 2)
            if source == "kraken-v1:ws":
                v1_lines.append(json.loads(payload))
            if source != "kraken:ws":
                continue
            m = json.loads(payload, parse_float=Decimal)
            if "method" in m:
                r = m.get("result")
                if isinstance(r, dict) and r.get("channel") == "book" and "depth" in r:
                    depth[r["symbol"]] = r["depth"]
                    if r["symbol"] in pairs:
                        pairs[r["symbol"]].depth = r["depth"]
                continue
            channel = m.get("channel")
            if channel == "instrument":
                for p in m["data"]["pairs"]:
                    precision[p["symbol"]] = (p["price_precision"], p["qty_precision"])
            elif channel == "book":
                for e in m["data"]:
                    s = e["symbol"]
                    p = pair(s, depth.get(s, 10), precision[s])
                    entries = [(n, l["price"], l["qty"]) for n in ("bids", "asks") for l in e[n]]
                    p.on_book(m["type"] == "snapshot", entries, e.get("checksum"))
            elif channel in ("trade", "ticker"):
                for e in m["data"]:
                    if e["symbol"] in pairs:
                        pairs[e["symbol"]].counts[channel + "s"] += 1
    v1(v1_lines, pair)
    for symbol in order:
        print(json.dumps(pairs[symbol].report()))


def v1(frames, pair):
    """v1 book frames: [id, {as,bs | a,b,c}..., "book-N", PAIR]; decimals from the strings."""
    seen = {}
    for m in frames:
        if isinstance(m, list) and m[-2].startswith("book-"):
            for o in m[1:-2]:
                for k in ("as", "bs", "a", "b"):
                    for l in o.get(k, []):
                        pd, qd = seen.get(m[-1], (0, 0))
                        seen[m[-1]] = (max(pd, decimals(l[0])), max(qd, decimals(l[1])))
    for m in frames:
        if not (isinstance(m, list) and m[-2].startswith("book-")):
            continue
        p = pair(m[-1], int(m[-2][5:]), seen[m[-1]])
        snapshot = any("as" in o or "bs" in o for o in m[1:-2])
        entries, expected = [], None
        for o in m[1:-2]:
            for k, name in (("as", "asks"), ("a", "asks"), ("bs", "bids"), ("b", "bids")):
                entries += [(name, Decimal(l[0]), Decimal(l[1])) for l in o.get(k, [])]
            if "c" in o:
                expected = int(o["c"])
        p.on_book(snapshot, entries, expected)


if __name__ == "__main__":
    main()
