#!/usr/bin/env python3
"""Writes data/bybit_spot_generated.cap and data/bybit_linear_generated.cap: Bybit v5 public
sessions (spot and linear) with known answers, for `pulse replay` and its tests (no real Bybit
recording is bundled). Deterministic: the same files every run (seeded), stdlib only.

Each file is what a client recording one connection would write: its `subscribe`/`ping`/
`unsubscribe` ops as `bybit-<market>:send` lines and every received frame as `bybit-<market>:ws`.
The script keeps the venue's book of each symbol (plain dicts, never crossed, under the
subscribed depth) and sends what Bybit sends: a snapshot after subscribing, then deltas with
`u` rising by one; size "0" deletes; a level deleted and added again later; trades and tickers
interleaved.

Spot (`/v5/public/spot`, depth 50 and 200):
  - BTCUSDT: one delta is lost (its `u` never arrives): the next delta shows the gap, the
    client sends `unsubscribe` then `subscribe` for `orderbook.50.BTCUSDT` alone, a delta still
    in flight arrives (dropped), then the acks and a fresh snapshot at the venue's current `u`;
  - ETHUSDT: a service restart: a snapshot with `u == 1`, then deltas from `u == 2`;
  - XRPUSDT (depth 200): one delta deletes a price the book does not hold (ignored, counted);
  - spot tickers (no best bid/ask, as the docs show) and pongs in spot's form
    (`{"op":"pong","args":[..]}`).
Linear (`/v5/public/linear`):
  - BTCUSDT: the docs' snapshot and delta examples verbatim (their `u`s do not chain: a gap),
    the resubscription and a generated snapshot after it, then generated deltas; the docs'
    ticker and trade examples, then generated ticker deltas (only the changed fields) and
    trades with UUID ids;
  - ETHUSDT (depth 200): a service restart (`u == 1`);
  - SOLUSDT (depth 1): snapshots only; when nothing changed for 3 s the same snapshot again,
    with the same `u`;
  - a refused subscription (`"success":false`) and pongs in linear's form.

scripts/bybit_book_reference.py rebuilds the books from these files independently.

    scripts/bybit_generate.py [OUTDIR]   (default data)
"""
import json
import random
import sys
from decimal import Decimal as D

T0 = 1733472000000000000  # 2024-12-06T08:00:00Z, nanoseconds
STEPS = 160


def js(obj):
    return json.dumps(obj, separators=(",", ":"))


class Capture:
    def __init__(self, market):
        self.source = "bybit-" + market
        self.lines = []
        self.ns = T0

    def tick(self, rng):
        self.ns += rng.randrange(700_000, 4_000_000)

    def ms(self):
        return self.ns // 1_000_000 - 2

    def ws(self, obj, rng):
        self.tick(rng)
        text = obj if isinstance(obj, str) else js(obj)
        self.lines.append(f"{self.ns}\t{self.source}:ws\t{text}")

    def send(self, obj, rng):
        self.tick(rng)
        self.lines.append(f"{self.ns}\t{self.source}:send\t{js(obj)}")


class Book:
    """The venue's book of one symbol and the frames it sends for it."""

    def __init__(self, symbol, depth, mid, pd, qd, rng, u=1000, seq=5_000_000):
        self.symbol, self.depth, self.pd, self.qd, self.rng = symbol, depth, pd, qd, rng
        self.tick = D(1).scaleb(-pd)
        self.bids, self.asks = {}, {}
        self.u, self.seq = u, seq
        self.deleted = []  # prices deleted, to add again later
        levels = min(depth, 12)
        for i in range(levels):
            self.bids[mid - self.tick * (1 + i * 3)] = self.size()
            self.asks[mid + self.tick * (1 + i * 3)] = self.size()
        if depth == 1:
            self.trim()

    def topic(self):
        return f"orderbook.{self.depth}.{self.symbol}"

    def size(self):
        return D(self.rng.randrange(1, 50_000)).scaleb(-self.qd)

    def px(self, p):
        return f"{p:.{self.pd}f}"

    def sz(self, q):
        return f"{q:.{self.qd}f}" if q else "0"

    def trim(self):
        """Depth 1 keeps the touch alone."""
        self.bids = {max(self.bids): self.bids[max(self.bids)]}
        self.asks = {min(self.asks): self.asks[min(self.asks)]}

    def frame(self, kind, b, a, cap):
        self.seq += self.rng.randrange(1, 40)
        return {
            "topic": self.topic(),
            "type": kind,
            "ts": cap.ms(),
            "data": {"s": self.symbol, "b": b, "a": a, "u": self.u, "seq": self.seq},
            "cts": cap.ms() - 1,
        }

    def snapshot(self, cap):
        b = [[self.px(p), self.sz(q)] for p, q in sorted(self.bids.items(), reverse=True)]
        a = [[self.px(p), self.sz(q)] for p, q in sorted(self.asks.items())]
        return self.frame("snapshot", b, a, cap)

    def change(self):
        """Changes the book a little; returns the changed levels per side."""
        rng = self.rng
        b, a = [], []
        for _ in range(rng.randrange(1, 5)):
            side, out, other = rng.choice(
                [(self.bids, b, self.asks), (self.asks, a, self.bids)]
            )
            is_bid = side is self.bids
            roll = rng.random()
            if roll < 0.2 and len(side) > 3:
                p = rng.choice(sorted(side))
                del side[p]
                self.deleted.append((is_bid, p))
                out.append([self.px(p), "0"])
            elif roll < 0.35 and self.deleted:
                was_bid, p = self.deleted.pop(0)
                if was_bid != is_bid:
                    continue
                if (is_bid and p >= min(other)) or (not is_bid and p <= max(other)):
                    continue
                side[p] = self.size()
                out.append([self.px(p), self.sz(side[p])])
            elif roll < 0.5 and len(side) < min(self.depth, 20):
                best = max(side) if is_bid else min(side)
                step = self.tick * rng.randrange(-2, 6)
                p = best - step if is_bid else best + step
                if (is_bid and p >= min(other)) or (not is_bid and p <= max(other)) or p <= 0:
                    continue
                side[p] = self.size()
                out.append([self.px(p), self.sz(side[p])])
            else:
                p = rng.choice(sorted(side))
                side[p] = self.size()
                out.append([self.px(p), self.sz(side[p])])
        # A price may change twice in one delta; the venue sends it once, last value.
        return dedup(b), dedup(a)

    def delta(self, cap):
        b, a = self.change()
        self.u += 1
        return self.frame("delta", b, a, cap)

    def touch(self):
        return max(self.bids), min(self.asks)


def dedup(levels):
    last = {}
    for px, q in levels:
        last[px] = q
    return [[px, q] for px, q in last.items()]


def spot_trade(book, cap, n, rng):
    bid, ask = book.touch()
    data = []
    for _ in range(rng.randrange(1, 3)):
        n[0] += 1
        buy = rng.random() < 0.5
        data.append({
            "T": cap.ms(), "s": book.symbol, "S": "Buy" if buy else "Sell",
            "v": book.sz(book.size()), "p": book.px(ask if buy else bid), "L": "PlusTick",
            "i": str(2290000000061666000 + n[0]), "BT": False,
        })
    return {"topic": f"publicTrade.{book.symbol}", "type": "snapshot", "ts": cap.ms(), "data": data}


def linear_trade(book, cap, n, rng):
    frame = spot_trade(book, cap, n, rng)
    for t in frame["data"]:
        t["i"] = "%08x-%04x-%04x-%04x-%012x" % tuple(
            rng.getrandbits(bits) for bits in (32, 16, 16, 16, 48)
        )
    return frame


def spot(rng):
    cap = Capture("spot")
    books = {
        "BTCUSDT": Book("BTCUSDT", 50, D("99850.00"), 2, 6, rng, u=3_561_000),
        "ETHUSDT": Book("ETHUSDT", 50, D("3890.50"), 2, 5, rng, u=812_400),
        "XRPUSDT": Book("XRPUSDT", 200, D("2.4321"), 4, 2, rng, u=77_000),
    }
    for s, book in books.items():
        cap.send({"op": "subscribe", "args": [book.topic(), f"publicTrade.{s}", f"tickers.{s}"]}, rng)
    for s, book in books.items():
        cap.ws({"success": True, "ret_msg": "subscribe", "conn_id": "d4pcvhrboasu6bctqh60-5x1ft",
                "req_id": "", "op": "subscribe"}, rng)
        cap.ws(book.snapshot(cap), rng)
    trades = [0]
    btc, eth, xrp = books["BTCUSDT"], books["ETHUSDT"], books["XRPUSDT"]
    for step in range(STEPS):
        for s, book in books.items():
            if s == "BTCUSDT" and step == 60:
                book.delta(cap)  # lost: its `u` never arrives
                continue
            if s == "ETHUSDT" and step == 100:
                # A service restart: the update id starts again from 1.
                book.u = 1
                book.change()
                cap.ws(book.snapshot(cap), rng)
                continue
            frame = book.delta(cap)
            if s == "XRPUSDT" and step == 30:
                # A delete of a price the book does not hold.
                gone = min(book.asks) + book.tick * 1000
                frame["data"]["a"].append([book.px(gone), "0"])
            cap.ws(frame, rng)
            if s == "BTCUSDT" and step == 61:
                topic = {"args": [btc.topic()]}
                cap.send({"op": "unsubscribe", **topic}, rng)
                cap.send({"op": "subscribe", **topic}, rng)
                cap.ws(btc.delta(cap), rng)  # in flight: dropped
                for op in ("unsubscribe", "subscribe"):
                    cap.ws({"success": True, "ret_msg": op, "conn_id": "d4pcvhrboasu6bctqh60-5x1ft",
                            "req_id": "", "op": op}, rng)
                cap.ws(btc.snapshot(cap), rng)
        if step % 5 == 2:
            cap.ws(spot_trade(rng.choice([btc, eth, xrp]), cap, trades, rng), rng)
        if step % 20 == 7:
            book = rng.choice([btc, eth, xrp])
            last, _ = book.touch()
            cap.ws({"topic": f"tickers.{book.symbol}", "ts": cap.ms(), "type": "snapshot",
                    "cs": 2588407389 + step,
                    "data": {"symbol": book.symbol, "lastPrice": book.px(last),
                             "highPrice24h": book.px(last * D("1.02")),
                             "lowPrice24h": book.px(last * D("0.97")),
                             "prevPrice24h": book.px(last * D("0.99")),
                             "volume24h": "6780.866843", "turnover24h": "141946527.22907118",
                             "price24hPcnt": "0.0196", "usdIndexPrice": book.px(last)}}, rng)
        if step % 50 == 25:
            cap.send({"op": "ping"}, rng)
            cap.ws({"req_id": "", "op": "pong", "args": [str(cap.ms())],
                    "conn_id": "d4pcvhrboasu6bctqh60-5x1ft"}, rng)
    return cap


# The v5 docs' examples (https://bybit-exchange.github.io/docs/v5/websocket/public/orderbook,
# .../trade, .../ticker), verbatim.
DOC_SNAPSHOT = '{"topic":"orderbook.50.BTCUSDT","type":"snapshot","ts":1672304484978,"data":{"s":"BTCUSDT","b":[["16493.50","0.006"],["16493.00","0.100"]],"a":[["16611.00","0.029"],["16612.00","0.213"]],"u":18521288,"seq":7961638724},"cts":1672304484976}'
DOC_DELTA = '{"topic":"orderbook.50.BTCUSDT","type":"delta","ts":1687940967466,"data":{"s":"BTCUSDT","b":[["30247.20","30.028"],["30245.40","0.224"],["30242.10","1.593"],["30240.30","1.305"],["30240.00","0"]],"a":[["30248.70","0"],["30249.30","0.892"],["30249.50","1.778"],["30249.60","0"],["30251.90","2.947"],["30252.20","0.659"],["30252.50","4.591"]],"u":177400507,"seq":66544703342},"cts":1687940967464}'
DOC_TRADE = '{"topic":"publicTrade.BTCUSDT","type":"snapshot","ts":1672304486868,"data":[{"T":1672304486865,"s":"BTCUSDT","S":"Buy","v":"0.001","p":"16578.50","L":"PlusTick","i":"20f43950-d8dd-5b31-9112-a178eb6023af","BT":false}]}'
DOC_TICKER = '{"topic":"tickers.BTCUSDT","type":"snapshot","data":{"symbol":"BTCUSDT","tickDirection":"PlusTick","price24hPcnt":"0.017103","lastPrice":"17216.00","prevPrice24h":"16926.50","highPrice24h":"17281.50","lowPrice24h":"16915.00","prevPrice1h":"17238.00","markPrice":"17217.33","indexPrice":"17227.36","openInterest":"68744.761","openInterestValue":"1183601235.91","turnover24h":"1570383121.943499","volume24h":"91705.276","nextFundingTime":"1673280000000","fundingRate":"-0.000212","bid1Price":"17215.50","bid1Size":"84.489","ask1Price":"17216.00","ask1Size":"83.020"},"cs":24987956059,"ts":1673272861686}'


def linear(rng):
    cap = Capture("linear")
    btc = Book("BTCUSDT", 50, D("30248.0"), 1, 3, rng, u=177400600, seq=66544703400)
    eth = Book("ETHUSDT", 200, D("3891.25"), 2, 2, rng, u=5_120_000)
    sol = Book("SOLUSDT", 1, D("236.120"), 3, 1, rng, u=9_000)
    books = [btc, eth, sol]
    for book in books:
        s = book.symbol
        cap.send({"op": "subscribe", "args": [book.topic(), f"publicTrade.{s}", f"tickers.{s}"]}, rng)
    cap.send({"op": "subscribe", "args": ["orderbook.50.BTCUSDTX"]}, rng)
    conn = "cejreaspqfh3sjdnldmg-p"
    for _ in books:
        cap.ws({"success": True, "ret_msg": "", "conn_id": conn, "req_id": "", "op": "subscribe"}, rng)
    cap.ws({"success": False, "ret_msg": "error:handler not found,topic:orderbook.50.BTCUSDTX",
            "conn_id": conn, "req_id": "", "op": "subscribe"}, rng)
    cap.ws(DOC_SNAPSHOT, rng)
    cap.ws(DOC_TICKER, rng)
    cap.ws(DOC_TRADE, rng)
    cap.ws(eth.snapshot(cap), rng)
    cap.ws(sol.snapshot(cap), rng)
    cap.ws(DOC_DELTA, rng)  # u 177400507 after 18521288: a gap
    topic = {"args": [btc.topic()]}
    cap.send({"op": "unsubscribe", **topic}, rng)
    cap.send({"op": "subscribe", **topic}, rng)
    for op in ("unsubscribe", "subscribe"):
        cap.ws({"success": True, "ret_msg": "", "conn_id": conn, "req_id": "", "op": op}, rng)
    cap.ws(btc.snapshot(cap), rng)
    trades = [0]
    last_touch = None
    for step in range(STEPS):
        for book in (btc, eth):
            if book is eth and step == 90:
                book.u = 1
                book.change()
                cap.ws(book.snapshot(cap), rng)
                continue
            cap.ws(book.delta(cap), rng)
        # SOLUSDT at depth 1: a new snapshot when the touch changed, else now and then the
        # same one again, same `u`, 3 s later.
        if rng.random() < 0.6:
            bid, ask = sol.touch()
            bid += sol.tick * rng.randrange(-2, 3)
            ask = max(bid + sol.tick, ask + sol.tick * rng.randrange(-2, 3))
            sol.bids, sol.asks = {bid: sol.size()}, {ask: sol.size()}
            sol.u += 1
            cap.ws(sol.snapshot(cap), rng)
        elif step % 4 == 0:
            cap.ns += 3_000_000_000
            cap.ws(sol.snapshot(cap), rng)
        if step % 6 == 3:
            cap.ws(linear_trade(rng.choice(books), cap, trades, rng), rng)
        # BTCUSDT's ticker deltas: only the fields that changed.
        bid, ask = btc.touch()
        touch = (bid, btc.bids[bid], ask, btc.asks[ask])
        data = {"symbol": "BTCUSDT"}
        if last_touch is None or touch[:2] != last_touch[:2]:
            data.update(bid1Price=btc.px(bid), bid1Size=btc.sz(btc.bids[bid]))
        if last_touch is None or touch[2:] != last_touch[2:]:
            data.update(ask1Price=btc.px(ask), ask1Size=btc.sz(btc.asks[ask]))
        if step % 3 == 0:
            data["markPrice"] = btc.px(bid)
        if len(data) > 1:
            cap.ws({"topic": "tickers.BTCUSDT", "type": "delta", "data": data,
                    "cs": 24987956100 + step, "ts": cap.ms()}, rng)
        last_touch = touch
        if step % 50 == 25:
            cap.send({"op": "ping"}, rng)
            cap.ws({"success": True, "ret_msg": "pong", "conn_id": conn, "req_id": "",
                    "op": "ping"}, rng)
    return cap


def main(outdir):
    rng = random.Random(18)
    for name, make in (("spot", spot), ("linear", linear)):
        cap = make(rng)
        with open(f"{outdir}/bybit_{name}_generated.cap", "w") as f:
            f.write("\n".join(cap.lines) + "\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "data")
