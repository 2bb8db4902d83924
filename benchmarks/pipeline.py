"""Tick-pipeline benchmark: websocket frame -> decode -> book -> mark -> sample, four designs.

One loopback source process (``_source``) sends Coinbase ``l2_data`` frames for 3 products;
every update frame moves one product's mid, so each frame yields one mark. Contenders, each
on its own connection to the same source, interleaved over the repeats:

- raw ceiling: receive and JSON-decode only, no books, no actors (the fastest loop and
  decoder found in the first table; ``codec`` is perpsbot's ``decode_frame``, msgspec into
  typed structs, which may win);
- work floor (not a design, a yardstick): perpsbot's feed-thread work on one thread with
  nothing else: receive, ``decode_frame``, ``OrderBook.apply``, a mid per changed book per
  socket read;
- legacy: one shared ``RLock``, direct calls (the original PerpsBot shape);
- plain pykka: stock mailboxes, proxies: receive thread -> streamer actor -> marks actor;
- perpsbot: ``WebSocketFeed`` + ``MarkTranslator`` + ``MarkWindowActor`` under an
  ``ActorSystem``, with a ``MarksSampled`` subscriber.

Figures:

- ticks/s: frames fully processed to a mark at the mark owner, per second, at the source's
  full speed: from the first frame's send time to the moment the last (sentinel) mark
  reached its owner. The legacy, pykka and perpsbot contenders decode with perpsbot's
  ``decode_frame`` and keep books with its ``OrderBook``; only the concurrency differs.
- latency at 5,000 frames/s paced: frame -> mark, from the frame's embedded send time to the
  mark's arrival at its owner; frame -> sample, to the arrival at the consumer of the
  sample that includes the mark (so it also holds the age of the latest mark, ~0.3 ms at
  1,667 frames/s per product, and the wait for the next 10 ms cycle is *not* in it: the
  sample carries the newest mark, which is what the strategy sees). The first 200 marks
  are warm-up and dropped. The ceiling's "mark" is the decoded frame.
- perpsbot burst: ``burst_s`` seconds at the source's full speed into a consumer that takes
  5 ms per 10 ms cycle, either blocked (GIL released, like slow I/O) or spinning (holding the
  GIL), with the default 5 ms GIL switch interval and with 1 ms: RSS every 100 ms, the
  latest-mark lag (mark window's handling time - the moment the feed thread began the batch
  of frames the mark came from, both monotonic: so it includes the batch's own processing,
  at most 128 frames) and the age of the mark in each published sample.
"""

from __future__ import annotations

import sys
from typing import Any

from benchmarks._pipeline_baselines import LegacyBot, ceiling, decoders, run_floor, run_pykka
from benchmarks._pipeline_common import Recorder
from benchmarks._pipeline_perpsbot import run_burst, run_perpsbot
from benchmarks._report import median, percentile, print_table, write_json
from benchmarks._source import PRODUCTS, FrameSource, frames_per_batch

CONTENDERS = ("ceiling", "floor", "legacy", "pykka", "perpsbot")
LABELS = {"ceiling": "raw ceiling", "floor": "work floor (1 thread)", "legacy": "legacy (RLock)",
          "pykka": "plain pykka", "perpsbot": "perpsbot"}  # fmt: skip
PACED_RATE = 5_000
CYCLE_S = 0.01
WARMUP_MARKS = 200
TARGETS = {"perpsbot_over_ceiling": 0.7, "perpsbot_over_pykka": 2.0, "p99_frame_to_mark_us": 1000}


def _loops(source: FrameSource, frames: int, repeats: int) -> dict[str, float]:
    """frames/s of receive loops and JSON decoders with nothing else to do."""
    variants = [("recv", "orjson"), ("recv_data", "orjson")]
    variants += [("reader", name) for name in decoders()]
    rates: dict[str, list[float]] = {f"{loop}+{dec}": [] for loop, dec in variants}
    for _ in range(repeats):
        for loop, dec in variants:
            # recv() with its defaults runs at ~10k frames/s: a tenth of the frames will do.
            count = frames // 10 if loop == "recv" else frames
            url = source.url("count", end="close", frames=count)
            rates[f"{loop}+{dec}"].append(ceiling(url, loop, dec))
    return {name: median(r) for name, r in rates.items()}


def _run(contender: str, url: str, recorder: Recorder, decoder: str, timeout_s: float) -> None:
    if contender == "floor":
        run_floor(url, recorder)
    elif contender == "legacy":
        LegacyBot(recorder, CYCLE_S).run(url, timeout_s)
    elif contender == "pykka":
        run_pykka(url, recorder, CYCLE_S, timeout_s)
    else:
        run_perpsbot(url, recorder, CYCLE_S, timeout_s)


def _throughput(contender: str, source: FrameSource, frames: int, decoder: str) -> float:
    if contender == "ceiling":
        return ceiling(source.url("count", end="close", frames=frames), "reader", decoder)
    recorder = Recorder(latency=False)
    end = "hold" if contender == "perpsbot" else "close"  # perpsbot's feed would reconnect
    _run(contender, source.url("count", end=end, frames=frames), recorder, decoder,
         timeout_s=frames / 2_000 + 60)  # fmt: skip
    return recorder.rate(frames + 2 * len(PRODUCTS))


def _latency(contender: str, source: FrameSource, seconds: float, decoder: str) -> Recorder:
    recorder = Recorder(latency=True)
    end = "hold" if contender == "perpsbot" else "close"
    url = source.url("paced", end=end, rate=PACED_RATE, seconds=seconds)
    if contender == "ceiling":
        ceiling(url, "reader", decoder, recorder)
    else:
        _run(contender, url, recorder, decoder, timeout_s=seconds + 60)
    return recorder


def _burst(source: FrameSource, seconds: float, kind: str, switch_ms: float) -> dict[str, Any]:
    """One perpsbot burst with the interpreter's GIL switch interval set to ``switch_ms``."""
    default_s = sys.getswitchinterval()
    sys.setswitchinterval(switch_ms / 1e3)
    try:
        url = source.url("burst", seconds=seconds)
        figures = run_burst(url, seconds, CYCLE_S, busy_ms=5.0, spin=kind == "spinning")
    finally:
        sys.setswitchinterval(default_s)
    return {"gil_switch_interval_ms": switch_ms, **figures}


def _pcts(samples: list[float]) -> dict[str, float] | None:
    samples = samples[WARMUP_MARKS:]
    if not samples:
        return None
    return {"p50": percentile(samples, 50), "p99": percentile(samples, 99),
            "max": max(samples), "samples": len(samples)}  # fmt: skip


def _fmt(pcts: dict[str, float] | None) -> str:
    return "n/a" if pcts is None else f"{pcts['p50']:,.0f} / {pcts['p99']:,.0f}"


def main(*, quick: bool = False) -> dict[str, Any]:
    batch = frames_per_batch()
    frames = batch * (10 if quick else 67)  # 30k or ~200k update frames
    repeats = 1 if quick else 5
    paced_s = 2.0 if quick else 5.0
    burst_s = 2.0 if quick else 5.0

    with FrameSource() as source:
        loops = _loops(source, frames, repeats)
        decoder = max(("json", "orjson", "msgspec", "codec"), key=lambda d: loops[f"reader+{d}"])
        rates: dict[str, list[float]] = {c: [] for c in CONTENDERS}
        for _ in range(repeats):  # interleaved, so all see the same machine state
            for contender in CONTENDERS:
                rates[contender].append(_throughput(contender, source, frames, decoder))
        latency = {c: _latency(c, source, paced_s, decoder) for c in CONTENDERS}
        bursts = {
            f"{kind}, switch {switch_ms:g} ms": _burst(source, burst_s, kind, switch_ms)
            for switch_ms in (5, 1)
            for kind in ("blocking", "spinning")
        }

    tps = {c: median(r) for c, r in rates.items()}

    def ratio(a: str, b: str) -> float:
        """The median of per-repeat ratios: contenders of one repeat ran back to back, so
        this cancels most of the machine's drift, which moves a median rate by 30% here."""
        return median([x / y for x, y in zip(rates[a], rates[b], strict=True)])

    figures: dict[str, Any] = {
        "products": list(PRODUCTS),
        "update_frames_per_run": frames,
        "repeats": repeats,
        "paced_frames_per_s": PACED_RATE,
        "paced_seconds": paced_s,
        "cycle_s": CYCLE_S,
        "receive_loops_frames_per_s": loops,
        "ceiling_decoder": decoder,
        "ticks_per_s": tps,
        "ticks_per_s_runs": rates,
        "frame_to_mark_us": {c: _pcts(r.mark_us) for c, r in latency.items()},
        "frame_to_sample_us": {c: _pcts(r.sample_us) for c, r in latency.items()},
        "perpsbot_burst": bursts,
    }
    p99 = figures["frame_to_mark_us"]["perpsbot"]["p99"]
    figures["ratios"] = {
        "perpsbot_over_ceiling": ratio("perpsbot", "ceiling"),
        "perpsbot_over_pykka": ratio("perpsbot", "pykka"),
        "perpsbot_over_legacy": ratio("perpsbot", "legacy"),
        "perpsbot_over_floor": ratio("perpsbot", "floor"),
        "floor_over_ceiling": ratio("floor", "ceiling"),
        "p99_frame_to_mark_us": p99,
    }
    figures["targets"] = TARGETS

    print_table(
        "receive loop + JSON decode only (frames/s, median)",
        ["loop + decoder", "frames/s", "us/frame"],
        [[name, f"{rate:,.0f}", f"{1e6 / rate:.2f}"] for name, rate in loops.items()],
    )
    print_table(
        f"pipeline: {frames:,} update frames x {repeats} at full speed; "
        f"latency at {PACED_RATE:,} frames/s for {paced_s:.0f}s; ceiling = reader+{decoder}; "
        "ratios are medians of per-repeat ratios",
        ["contender", "ticks/s", "x ceiling", "frame->mark p50/p99 us",
         "frame->sample p50/p99 us"],
        [
            [LABELS[c], f"{tps[c]:,.0f}", f"{ratio(c, 'ceiling'):.2f}",
             _fmt(figures["frame_to_mark_us"][c]), _fmt(figures["frame_to_sample_us"][c])]
            for c in CONTENDERS
        ],
    )  # fmt: skip
    ratios = figures["ratios"]
    print_table(
        "ratios vs targets",
        ["ratio", "measured", "target"],
        [
            ["perpsbot / ceiling ticks/s", f"{ratios['perpsbot_over_ceiling']:.2f}", ">= 0.7"],
            ["perpsbot / plain pykka ticks/s", f"{ratios['perpsbot_over_pykka']:.2f}", ">= 2"],
            ["perpsbot / legacy ticks/s", f"{ratios['perpsbot_over_legacy']:.2f}", ""],
            ["perpsbot / work floor ticks/s", f"{ratios['perpsbot_over_floor']:.2f}", ""],
            ["work floor / ceiling ticks/s", f"{ratios['floor_over_ceiling']:.2f}", ""],
            ["perpsbot p99 frame->mark at 5k/s", f"{p99:,.0f} us", "< 1,000 us"],
        ],
    )
    _print_bursts(bursts, burst_s)
    write_json("pipeline", figures)
    return figures


def _print_bursts(bursts: dict[str, dict[str, Any]], burst_s: float) -> None:
    rows = [
        ["frames received (feed thread)",
         *(f"{b['frames_received']:,} ({b['feed_frames_per_s']:,.0f}/s)" for b in bursts.values())],
        ["marks handled by the mark window",
         *(f"{b['marks_at_owner']:,}" for b in bursts.values())],
        ["mark-window mailbox max depth",
         *(str(b["marks_mailbox_max_depth"]) for b in bursts.values())],
        ["samples consumed", *(str(b["samples_consumed"]) for b in bursts.values())],
        ["latest-mark lag p50 / p99 / max us",
         *("{p50:,.0f} / {p99:,.0f} / {max:,.0f}".format(**b["latest_mark_lag_us"])
           for b in bursts.values())],
        ["sampled mark age p50 / p99 / max ms",
         *("{p50:.2f} / {p99:.2f} / {max:.2f}".format(**b["sample_age_ms"])
           for b in bursts.values())],
        ["RSS start / after 1s / max / end MiB",
         *("{start:.1f} / {after_1s:.1f} / {max:.1f} / {end:.1f}".format(**b["rss_mib"])
           for b in bursts.values())],
    ]  # fmt: skip
    print_table(
        f"perpsbot burst: {burst_s:.0f}s at the source's full speed, a {CYCLE_S * 1e3:.0f} ms "
        "cycle, a consumer taking 5 ms per sample",
        ["metric (consumer, GIL switch interval)", *bursts],
        rows,
    )
