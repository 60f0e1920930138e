#!/usr/bin/env python3
"""Writes data/kraken_v2_book_generated.cap: a Kraken WebSocket v2 session with known answers,
for `pulse replay` and its tests (no real v2 capture is bundled). Deterministic: the same
file every run (seeded), stdlib only.

What it holds, in order (source `kraken:ws`, plus the `kraken:send` requests a client sends):
  - status, the `instrument` snapshot (BTC/USD 1/8 decimals, ETH/USD 2/8, MATIC/USD 4/8 and a
    pair not subscribed), the subscription replies (book depth 10, ticker, trade);
  - MATIC/USD: the API reference's snapshot and update (docs.kraken.com/api/docs/websocket-v2/
    book; JSON numbers that must be written at precision 4 for the checksum: 0.566 -> 5660);
  - ETH/USD: two real frames (a snapshot, then an update deleting one ask and adding one);
  - BTC/USD: a real snapshot with quantities in exponent form (5.325e-05), then a generated
    stream: this script keeps the venue's whole book (the real top ten plus deeper levels) and
    sends what Kraken does for a depth-10 subscriber: every change inside the top ten, a
    delete for a level deleted from the top ten and the level that then enters it, no delete
    for a level an insert pushes out of scope (the client truncates), nothing for changes
    deeper than the top ten. Some messages repeat a price (the last entry wins), some
    quantities are tiny and written in exponent form. Tickers (the venue's touch), trades and
    heartbeats interleave. One update's checksum is corrupted (CORRUPT_STEP): the client must
    mark BTC/USD stale, drop its updates, and resync from the snapshot a resubscription
    brings (RESNAPSHOT_STEP).

The checksums are Kraken's algorithm over the venue's book here (checked against Kraken's own
examples in data/kraken_checksum_vectors.json by the Rust tests). scripts/kraken_book_reference.py
rebuilds the books from this file independently.

    scripts/kraken_v2_generate.py [OUT]   (default data/kraken_v2_book_generated.cap)
"""
import json
import random
import sys
import zlib
from decimal import Decimal as D

STEPS = 300
CORRUPT_STEP = 150
RESNAPSHOT_STEP = 175
DEPTH = 10
PRECISION = {"BTC/USD": (1, 8), "ETH/USD": (2, 8), "MATIC/USD": (4, 8)}
VECTORS = "data/kraken_checksum_vectors.json"


def num(d):
    """A JSON number as Kraken writes it: the shortest form, exponent for tiny values."""
    return repr(float(d))


def checksum(asks, bids, prec):
    """Kraken's CRC32: top ten asks ascending, then bids descending; price and qty at the
    pair's decimals, '.' removed, leading zeros stripped."""
    pp, qp = prec
    text = ""
    for side in (asks, bids):
        for px, qty in side[:10]:
            text += str(int(px.scaleb(pp))) + str(int(qty.scaleb(qp)))
    return zlib.crc32(text.encode())


class Book:
    """The venue's whole book of one pair."""

    def __init__(self, asks, bids):
        self.asks = dict(asks)
        self.bids = dict(bids)

    def side(self, name):
        return self.asks if name == "asks" else self.bids

    def top(self, name, n=DEPTH):
        levels = sorted(self.side(name).items(), reverse=(name == "bids"))
        return levels[:n]


def book_line(symbol, kind, asks, bids, sum_):
    level = lambda l: '{"price":%s,"qty":%s}' % (num(l[0]), num(l[1]))
    return (
        '{"channel":"book","type":"%s","data":[{"symbol":"%s","bids":[%s],"asks":[%s],'
        '"checksum":%d,"timestamp":"2025-05-06T09:17:26.208075Z"}]}'
        % (kind, symbol, ",".join(map(level, bids)), ",".join(map(level, asks)), sum_)
    )


def main():
    out_path = sys.argv[1] if len(sys.argv) > 1 else "data/kraken_v2_book_generated.cap"
    rng = random.Random(18)
    vectors = {v["id"]: v for v in json.load(open(VECTORS))["vectors"]}
    lines = []
    ts = [1746522000000000000]

    def emit(payload, source="kraken:ws"):
        ts[0] += 1_000_000 + rng.randrange(1_000_000)
        lines.append("%d\t%s\t%s" % (ts[0], source, payload))

    pairs = ["BTC/USD", "ETH/USD", "MATIC/USD"]
    emit('{"method":"subscribe","params":{"channel":"instrument"}}', "kraken:send")
    emit('{"method":"subscribe","params":{"channel":"book","symbol":%s,"depth":10}}'
         % json.dumps(pairs, separators=(",", ":")), "kraken:send")
    emit('{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":'
         '1234567890,"system":"online","version":"2.0.9"}]}')
    listed = [("BTC/USD", 1, 8), ("ETH/USD", 2, 8), ("MATIC/USD", 4, 8), ("DOGE/USD", 7, 8)]
    emit('{"channel":"instrument","type":"snapshot","data":{"assets":[],"pairs":[%s]}}' % ",".join(
        '{"symbol":"%s","base":"X","quote":"USD","status":"online","qty_precision":%d,'
        '"qty_increment":1e-%d,"price_precision":%d,"price_increment":1e-%d}' % (s, q, q, p, p)
        for s, p, q in listed))
    for symbol in pairs:
        emit('{"method":"subscribe","result":{"channel":"book","depth":10,"snapshot":true,'
             '"symbol":"%s"},"success":true,"time_in":"2025-05-06T09:17:25.000000Z",'
             '"time_out":"2025-05-06T09:17:25.000100Z"}' % symbol)
    emit('{"method":"subscribe","result":{"channel":"ticker","symbol":"BTC/USD"},"success":true}')
    emit('{"method":"subscribe","result":{"channel":"trade","symbol":"BTC/USD"},"success":true}')

    matic = vectors["kraken_v2_apiref_maticusd_snapshot"]
    parse = lambda levels: [(D(p), D(q)) for p, q in levels]
    emit(book_line("MATIC/USD", "snapshot", parse(matic["asks"]), parse(matic["bids"]),
                   matic["expected_checksum"]))
    emit(json.dumps(vectors["kraken_v2_apiref_maticusd_update"]["update_message"],
                    separators=(",", ":")))
    emit(vectors["kraken_v2_real_ethusd_snapshot"]["raw_message"])
    emit('{"channel":"heartbeat"}')
    emit(vectors["kraken_v2_real_ethusd_update"]["raw_message"])

    real = json.loads(vectors["kraken_v2_real_btcusd_snapshot_exponent_qty"]["raw_message"],
                      parse_float=D)["data"][0]
    emit(vectors["kraken_v2_real_btcusd_snapshot_exponent_qty"]["raw_message"])
    level = lambda l: (l["price"], l["qty"])
    book = Book(map(level, real["asks"]), map(level, real["bids"]))
    tick = D("0.1")
    worst_ask, worst_bid = book.top("asks")[-1][0], book.top("bids")[-1][0]
    for i in range(1, 21):  # deeper levels the subscriber never sees until they enter scope
        book.asks[worst_ask + i * tick * 3] = qty(rng)
        book.bids[worst_bid - i * tick * 3] = qty(rng)

    trade_id = 80000000
    for step in range(1, STEPS + 1):
        before = {s: book.top(s) for s in ("asks", "bids")}
        noise = {"asks": [], "bids": []}
        for _ in range(rng.randrange(1, 4)):
            mutate(book, rng, tick, noise)
        after = {s: book.top(s) for s in ("asks", "bids")}
        entries = {}
        for s in ("asks", "bids"):
            was, now = dict(before[s]), dict(after[s])
            sent = list(noise[s])
            for px, q in before[s]:
                if px not in book.side(s):  # deleted at the venue: Kraken sends the delete
                    sent.append((px, D(0)))
            for px, q in after[s]:
                if was.get(px) != q:
                    sent.append((px, q))
            entries[s] = sent
        if step == RESNAPSHOT_STEP:
            emit('{"method":"unsubscribe","params":{"channel":"book","symbol":["BTC/USD"],'
                 '"depth":10}}', "kraken:send")
            emit('{"method":"subscribe","params":{"channel":"book","symbol":["BTC/USD"],'
                 '"depth":10}}', "kraken:send")
            emit(book_line("BTC/USD", "snapshot", after["asks"], after["bids"],
                           checksum(after["asks"], after["bids"], PRECISION["BTC/USD"])))
        elif entries["asks"] or entries["bids"]:
            sum_ = checksum(after["asks"], after["bids"], PRECISION["BTC/USD"])
            if step == CORRUPT_STEP:
                sum_ ^= 0x1
            emit(book_line("BTC/USD", "update", entries["asks"], entries["bids"], sum_))
        if step % 10 == 0:
            emit('{"channel":"heartbeat"}')
        if step % 7 == 0:
            (ap, aq), (bp, bq) = after["asks"][0], after["bids"][0]
            emit('{"channel":"ticker","type":"update","data":[{"symbol":"BTC/USD","bid":%s,'
                 '"bid_qty":%s,"ask":%s,"ask_qty":%s,"last":%s,"volume":1234.5,"vwap":93800.1,'
                 '"low":93000.0,"high":94500.0,"change":100.0,"change_pct":0.11}]}'
                 % (num(bp), num(bq), num(ap), num(aq), num(ap)))
        if step % 11 == 0:
            trade_id += 1
            px, _ = after["asks"][0]
            emit('{"channel":"trade","type":"update","data":[{"symbol":"BTC/USD","side":"buy",'
                 '"price":%s,"qty":%s,"ord_type":"market","trade_id":%d,'
                 '"timestamp":"2025-05-06T09:17:26.208075Z"}]}' % (num(px), num(D("0.001")), trade_id))
    emit('{"method":"pong","req_id":7,"time_in":"2025-05-06T09:27:00.000000Z",'
         '"time_out":"2025-05-06T09:27:00.000100Z"}')
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("%s: %d lines" % (out_path, len(lines)))


def qty(rng):
    """A quantity at 8 decimals; one in six tiny (written in exponent form)."""
    if rng.randrange(6) == 0:
        return D(rng.randrange(1000, 9999)).scaleb(-8)
    return D(rng.randrange(1, 500_000_000)).scaleb(-8)


def mutate(book, rng, tick, noise):
    """One change at the venue: a quantity, a delete or an insert, in or out of the top ten."""
    s = rng.choice(("asks", "bids"))
    side = book.side(s)
    top = book.top(s)
    best_bid, best_ask = book.top("bids", 1)[0][0], book.top("asks", 1)[0][0]
    op = rng.randrange(6)
    if op == 0:  # a quantity inside the top ten changes; sometimes sent twice (last wins)
        px = rng.choice(top)[0]
        side[px] = qty(rng)
        if rng.randrange(3) == 0:
            noise[s].append((px, qty(rng)))
    elif op == 1 and len(side) > DEPTH + 2:  # a level of the top ten is deleted
        del side[rng.choice(top)[0]]
    elif op in (2, 3):  # a new level inside the top ten (pushes the tenth out of scope)
        lo, hi = (best_bid + tick, top[-1][0]) if s == "asks" else (top[-1][0], best_ask - tick)
        steps = int((hi - lo) / tick)
        if steps > 0:
            px = lo + tick * rng.randrange(steps + 1)
            if px not in side:
                side[px] = qty(rng)
                if rng.randrange(4) == 0:
                    noise[s].append((px, D(0)))
    else:  # deeper than the top ten: the subscriber hears nothing
        deep = [px for px, _ in sorted(side.items(), reverse=(s == "bids"))[DEPTH:]]
        if deep:
            side[rng.choice(deep)] = qty(rng)


if __name__ == "__main__":
    main()
