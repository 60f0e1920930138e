#!/usr/bin/env python3
"""Converts a Binance spot capture (data/binance_spot_btcusdt_2024-08-08.cap.gz) into
Tardis.dev CSV datasets, the way Tardis publishes Binance, with the standard library only and
nothing of Pulse: the input of the Tardis import round-trip test (feeds/tests/tardis_roundtrip.rs).

Tardis's documented columns (https://docs.tardis.dev/downloadable-csv-files; times in
microseconds since the epoch, `timestamp` the exchange's, `local_timestamp` the receive time):

  incremental_book_L2.csv.gz  exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount
  trades.csv.gz               exchange,symbol,timestamp,local_timestamp,id,side,price,amount
  quotes.csv                  exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount

(quotes plain, the others gzipped, so that both are read.)

The book follows Binance's documented procedure (data/binance_spot_how_to_manage_local_order_book.md):
depth diffs are buffered until the REST snapshot; the snapshot is written as rows with
is_snapshot=true (its timestamp is its receive time: a REST body has no exchange time, and
Tardis falls back to local_timestamp); buffered diffs with u <= lastUpdateId are dropped, the
first one kept must have U <= lastUpdateId + 1 <= u, and every later one U == previous u + 1
(a break stops the script: the bundled capture has none). Each kept diff becomes one row per
level, is_snapshot=false, timestamp its event time E, local_timestamp its receive time. A diff
received before the snapshot but applied after it is given the snapshot's receive time plus
one microsecond per diff (so each diff stays one message, and the file stays in
local_timestamp order). Prices and amounts are written as Tardis writes numbers: the plain
decimal without trailing zeros.

Trades: id t, side the taker's (m, the buyer is the maker: sell). Quotes: every bookTicker
(spot's has no event time: timestamp = local_timestamp).

    scripts/capture_to_tardis.py CAPTURE OUTDIR

prints the counts written, as JSON.
"""
import gzip
import json
import os
import sys
from decimal import Decimal

L2_HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"
TRADES_HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount"
QUOTES_HEADER = "exchange,symbol,timestamp,local_timestamp,ask_amount,ask_price,bid_price,bid_amount"


def open_capture(path):
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    return gzip.open(path, "rb") if gz else open(path, "rb")


def num(text):
    d = Decimal(text)
    if d == 0:
        return "0"
    return format(d.normalize(), "f")


class Converter:
    def __init__(self, book_out, trades_out, quotes_out):
        self.book_out, self.trades_out, self.quotes_out = book_out, trades_out, quotes_out
        self.buffer = []  # (recv_us, diff) before the snapshot
        self.last = None  # the book's update id once synced
        self.bridged = False
        self.last_local = 0
        self.count = dict(snapshot_rows=0, diffs=0, diff_rows=0, dropped=0, trades=0, quotes=0)

    def local(self, recv_us):
        self.last_local = max(recv_us, self.last_local + 1)
        return self.last_local

    def snapshot(self, recv_us, symbol, body):
        if self.last is not None:
            raise SystemExit("a second snapshot: not in the bundled capture")
        self.last = body["lastUpdateId"]
        for side, levels in (("bid", body["bids"]), ("ask", body["asks"])):
            for px, qty in levels:
                self.book_out.write(f"binance,{symbol},{recv_us},{recv_us},true,{side},"
                                    f"{num(px)},{num(qty)}\n")
                self.count["snapshot_rows"] += 1
        self.last_local = recv_us
        buffered, self.buffer = self.buffer, []
        for diff_recv, diff in buffered:
            self.diff(diff_recv, diff)

    def diff(self, recv_us, d):
        if self.last is None:
            self.buffer.append((recv_us, d))
            return
        first, final = d["U"], d["u"]
        if not self.bridged:
            if final <= self.last:
                self.count["dropped"] += 1
                return
            if not first <= self.last + 1 <= final:
                raise SystemExit(f"diff {first}..{final} does not bridge snapshot {self.last}")
        elif first != self.last + 1:
            raise SystemExit(f"gap: diff {first}..{final} after {self.last}")
        self.last, self.bridged = final, True
        local = self.local(recv_us)
        for side, levels in (("bid", d["b"]), ("ask", d["a"])):
            for px, qty in levels:
                self.book_out.write(f"binance,{d['s']},{d['E'] * 1000},{local},false,{side},"
                                    f"{num(px)},{num(qty)}\n")
                self.count["diff_rows"] += 1
        self.count["diffs"] += 1

    def trade(self, recv_us, t):
        side = "sell" if t["m"] else "buy"
        self.trades_out.write(f"binance,{t['s']},{t['T'] * 1000},{recv_us},{t['t']},{side},"
                              f"{num(t['p'])},{num(t['q'])}\n")
        self.count["trades"] += 1

    def quote(self, recv_us, q):
        self.quotes_out.write(f"binance,{q['s']},{recv_us},{recv_us},{num(q['A'])},"
                              f"{num(q['a'])},{num(q['b'])},{num(q['B'])}\n")
        self.count["quotes"] += 1


def main(capture, outdir):
    os.makedirs(outdir, exist_ok=True)
    with gzip.open(os.path.join(outdir, "incremental_book_L2.csv.gz"), "wt", newline="") as book, \
            gzip.open(os.path.join(outdir, "trades.csv.gz"), "wt", newline="") as trades, \
            open(os.path.join(outdir, "quotes.csv"), "w", newline="") as quotes, \
            open_capture(capture) as f:
        book.write(L2_HEADER + "\n")
        trades.write(TRADES_HEADER + "\n")
        quotes.write(QUOTES_HEADER + "\n")
        conv = Converter(book, trades, quotes)
        for raw in f:
            ts, source, payload = raw.rstrip(b"\r\n").split(b"\t", 2)
            recv_us = int(ts) // 1000
            kind = source.decode().split(":", 1)[1]
            msg = json.loads(payload)
            if kind.startswith("rest:"):
                symbol = kind.split("symbol=", 1)[1].split("&", 1)[0]
                conv.snapshot(recv_us, symbol, msg)
                continue
            data = msg["data"] if "stream" in msg else msg
            e = data.get("e")
            if e == "depthUpdate":
                conv.diff(recv_us, data)
            elif e == "trade":
                conv.trade(recv_us, data)
            elif e is None and "u" in data and "b" in data:
                conv.quote(recv_us, data)
    print(json.dumps(conv.count))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
