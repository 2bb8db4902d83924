"""Tick-pipeline benchmark: websocket frame -> decode -> book -> mark -> sample, side by side.

One loopback source process (``_source``) sends Coinbase ``l2_data`` frames for 3 products;
every update frame moves one product's mid, so each frame yields one mark. Contenders, each
on its own connection to the same source, interleaved over the repeats:

- raw ceiling: receive and JSON-decode only, no books, no actors (the fastest loop and
  decoder found in the first table; ``codec`` is perpsbot's ``decode_frame``, msgspec into
  typed structs, which may win);
- work floor (not a design, a yardstick): perpsbot's feed-thread work on one thread with
  nothing else: receive (32 KiB reads, as perpsbot's feed), ``decode_frame``,
  ``OrderBook.apply``, a mid per changed book per socket read;
- legacy shape: one shared ``RLock`` and direct calls, as the original bot kept its marks,
  but built from perpsbot's own reader, codec and book (a lock against actors, all else
  equal; not the original bot's code);
- pykka, perpsbot's design: the same feed-thread books and one told message per socket read,
  on stock ``pykka.ThreadingActor`` mailboxes, ``tell`` only, with a lean receive loop of its
  own (no gap detection, no book-readiness gate);
- pykka + perpsbot's feed: perpsbot's own ``WebSocketFeed`` and ``MarkTranslator`` telling a
  stock pykka mark window: only the runtime differs from perpsbot, so perpsbot / this is what
  perpsbot's runtime adds over stock pykka;
- pykka, naive: a proxy hop per frame into a streamer actor, another per mark;
- perpsbot: ``WebSocketFeed`` + ``MarkTranslator`` + ``MarkWindowActor`` under an
  ``ActorSystem``, with a ``MarksSampled`` subscriber.

Every contender but the ceiling decodes with ``decode_frame`` and keeps books with
``OrderBook``; only the concurrency differs.

Figures:

- ticks/s: frames fully processed to a mark at the mark owner, per second, at the source's
  full speed: from the first frame's send time to the moment the last (sentinel) mark
  reached its owner. Ratios are per repeat (contenders of one repeat run back to back),
  reported as the median and the range over the repeats.
- latency at 5,000 frames/s paced: frame -> mark, from the frame's embedded send time to the
  mark's arrival at its owner; frame -> sample, to the arrival at the consumer of the
  sample that includes the mark (so it also holds the age of the latest mark, ~0.3 ms at
  1,667 frames/s per product, and the wait for the next 10 ms cycle is *not* in it: the
  sample carries the newest mark, which is what the strategy sees). The first 200 marks
  are warm-up and dropped. The ceiling's "mark" is the decoded frame.
- CPU per frame: this process's CPU time (every thread) over the frames of a paced run, at
  5,000 frames/s and at a trickle of 200 frames/s per product, where thread wake-ups, not
  decoding, cost the most.
- perpsbot burst: ``burst_s`` seconds at the source's full speed into a consumer that takes
  5 ms per 10 ms cycle, either blocked (GIL released, like slow I/O) or spinning (holding the
  GIL), with the default 5 ms GIL switch interval and with 1 ms: RSS every 100 ms, the
  latest-mark lag (mark window's handling time - the moment the feed thread began the batch
  of frames the mark came from, both monotonic: so it includes the batch's own processing,
  at most 128 frames) and the age of the mark in each published sample.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from benchmarks._pipeline_baselines import LegacyBot, ceiling, decoders, run_floor
from benchmarks._pipeline_common import Recorder
from benchmarks._pipeline_perpsbot import run_burst, run_perpsbot
from benchmarks._pipeline_pykka import run_pykka, run_pykka_feed, run_pykka_naive
from benchmarks._report import (
    fmt_spread,
    median,
    percentile,
    print_table,
    spread,
    write_json,
)
from benchmarks._source import PRODUCTS, FrameSource, frames_per_batch

CONTENDERS = ("ceiling", "floor", "legacy", "pykka", "pykka_feed", "pykka_naive", "perpsbot")
LABELS = {
    "ceiling": "raw ceiling (receive + decode only)",
    "floor": "work floor (same work, 1 thread)",
    "legacy": "legacy shape: perpsbot's reader, codec, book behind one RLock",
    "pykka": "pykka, perpsbot's design: feed-thread books, one tell per read",
    "pykka_feed": "pykka + perpsbot's feed and translator (only the runtime differs)",
    "pykka_naive": "pykka, naive: proxy hop per frame",
    "perpsbot": "perpsbot",
}
PACED_RATE = 5_000
TRICKLE_RATE = 200 * len(PRODUCTS)
CYCLE_S = 0.01
WARMUP_MARKS = 200
# DESIGN section 9.
TARGETS = {
    "perpsbot_over_floor": ">= 0.8",
    "perpsbot_over_pykka": ">= 1.3",
    "trickle_cpu_us_per_frame": "<= 20",
    "burst_latest_mark_lag_p99_us": "< 5,000",
}
# mode: (batches of update frames a throughput run, repeats, paced s, trickle s, burst s)
SIZES = {
    "full": (67, 5, 5.0, 5.0, 5.0),
    "quick": (10, 1, 2.0, 2.0, 2.0),
    "smoke": (1, 1, 0.3, 0.3, 0.3),
}


def _loops(source: FrameSource, frames: int, repeats: int) -> dict[str, float]:
    """frames/s of receive loops and JSON decoders with nothing else to do."""
    variants = [("recv", "msgspec"), ("recv_data", "msgspec")]
    variants += [("reader", name) for name in decoders()]
    rates: dict[str, list[float]] = {f"{loop}+{dec}": [] for loop, dec in variants}
    for _ in range(repeats):
        for loop, dec in variants:
            # recv() with its defaults runs at ~10k frames/s: a tenth of the frames will do.
            count = frames // 10 if loop == "recv" else frames
            url = source.url("count", end="close", frames=count)
            rates[f"{loop}+{dec}"].append(ceiling(url, loop, dec))
    return {name: median(r) for name, r in rates.items()}


def _run(contender: str, url: str, recorder: Recorder, timeout_s: float) -> None:
    if contender == "floor":
        run_floor(url, recorder)
    elif contender == "legacy":
        LegacyBot(recorder, CYCLE_S).run(url, timeout_s)
    elif contender == "pykka":
        run_pykka(url, recorder, CYCLE_S, timeout_s)
    elif contender == "pykka_feed":
        run_pykka_feed(url, recorder, CYCLE_S, timeout_s)
    elif contender == "pykka_naive":
        run_pykka_naive(url, recorder, CYCLE_S, timeout_s)
    else:
        run_perpsbot(url, recorder, CYCLE_S, timeout_s)


def _end(contender: str) -> str:
    # perpsbot's feed would reconnect after a close: the source holds those connections open.
    return "hold" if contender in ("perpsbot", "pykka_feed") else "close"


def _throughput(contender: str, source: FrameSource, frames: int, decoder: str) -> float:
    if contender == "ceiling":
        return ceiling(source.url("count", end="close", frames=frames), "reader", decoder)
    recorder = Recorder()
    url = source.url("count", end=_end(contender), frames=frames)
    _run(contender, url, recorder, timeout_s=frames / 2_000 + 60)
    return recorder.rate(frames + 2 * len(PRODUCTS))


def _paced(
    contender: str, source: FrameSource, rate: int, seconds: float, decoder: str
) -> tuple[Recorder, float]:
    """One paced run: the recorder (latencies) and the CPU microseconds per frame, from the
    first mark to the last, so start-up and shutdown are not in it."""
    recorder = Recorder(latency=True, cpu=True)
    url = source.url("paced", end=_end(contender), rate=rate, seconds=seconds)
    if contender == "ceiling":
        ceiling(url, "reader", decoder, recorder)
    else:
        _run(contender, url, recorder, timeout_s=seconds + 60)
    frames = int(rate * seconds) - 1 + len(PRODUCTS)  # after the first, with the sentinels
    return recorder, recorder.cpu_s() / frames * 1e6


def _burst(
    source: FrameSource, seconds: float, kind: str, switch_ms: float, tail_s: float
) -> dict[str, Any]:
    """One perpsbot burst with the interpreter's GIL switch interval set to ``switch_ms``."""
    default_s = sys.getswitchinterval()
    sys.setswitchinterval(switch_ms / 1e3)
    try:
        url = source.url("burst", seconds=seconds)
        figures = run_burst(
            url, seconds, CYCLE_S, busy_ms=5.0, spin=kind == "spinning", tail_s=tail_s
        )
    finally:
        sys.setswitchinterval(default_s)
    return {"gil_switch_interval_ms": switch_ms, **figures}


def _pcts(samples: list[float]) -> dict[str, float] | None:
    samples = samples[min(WARMUP_MARKS, len(samples) // 5) :]
    if not samples:
        return None
    return {"p50": percentile(samples, 50), "p99": percentile(samples, 99),
            "max": max(samples), "samples": len(samples)}  # fmt: skip


def _fmt(pcts: dict[str, float] | None) -> str:
    return "n/a" if pcts is None else f"{pcts['p50']:,.0f} / {pcts['p99']:,.0f}"


def main(*, mode: str = "full", out: Path | None = None) -> dict[str, Any]:
    batches, repeats, paced_s, trickle_s, burst_s = SIZES[mode]
    frames = frames_per_batch() * batches  # ~200k update frames in a full run

    with FrameSource() as source:
        loops = _loops(source, frames, repeats)
        decoder = max(("json", "msgspec", "codec"), key=lambda d: loops[f"reader+{d}"])
        rates: dict[str, list[float]] = {c: [] for c in CONTENDERS}
        for _ in range(repeats):  # interleaved, so all see the same machine state
            for contender in CONTENDERS:
                rates[contender].append(_throughput(contender, source, frames, decoder))
        paced = {c: _paced(c, source, PACED_RATE, paced_s, decoder) for c in CONTENDERS}
        trickle = {c: _paced(c, source, TRICKLE_RATE, trickle_s, decoder)[1] for c in CONTENDERS}
        bursts = {
            f"{kind}, switch {switch_ms:g} ms": _burst(
                source, burst_s, kind, switch_ms, tail_s=min(1.0, burst_s)
            )
            for switch_ms in (5, 1)
            for kind in ("blocking", "spinning")
        }

    def ratio(a: str, b: str) -> dict[str, float]:
        """Per-repeat ratios: contenders of one repeat ran back to back, so this cancels
        most of the machine's drift, which moves a median rate by 30% here."""
        return spread([x / y for x, y in zip(rates[a], rates[b], strict=True)])

    lag_p99 = max(b["latest_mark_lag_us"]["p99"] for b in bursts.values())
    figures: dict[str, Any] = {
        "mode": mode,
        "products": list(PRODUCTS),
        "contenders": LABELS,
        "update_frames_per_run": frames,
        "repeats": repeats,
        "paced_frames_per_s": PACED_RATE,
        "paced_seconds": paced_s,
        "trickle_frames_per_s": TRICKLE_RATE,
        "trickle_seconds": trickle_s,
        "cycle_s": CYCLE_S,
        "receive_loops_frames_per_s": loops,
        "ceiling_decoder": decoder,
        "ticks_per_s": {c: spread(r) for c, r in rates.items()},
        "ticks_per_s_runs": rates,
        "frame_to_mark_us": {c: _pcts(r.mark_us) for c, (r, _) in paced.items()},
        "frame_to_sample_us": {c: _pcts(r.sample_us) for c, (r, _) in paced.items()},
        "cpu_us_per_frame": {
            f"paced_{PACED_RATE}": {c: cpu for c, (_, cpu) in paced.items()},
            f"trickle_{TRICKLE_RATE}": trickle,
        },
        "perpsbot_burst": bursts,
    }
    figures["ratios"] = {
        "perpsbot_over_floor": ratio("perpsbot", "floor"),
        "perpsbot_over_pykka": ratio("perpsbot", "pykka"),
        "perpsbot_over_pykka_feed": ratio("perpsbot", "pykka_feed"),
        "perpsbot_over_pykka_naive": ratio("perpsbot", "pykka_naive"),
        "perpsbot_over_legacy": ratio("perpsbot", "legacy"),
        "perpsbot_over_ceiling": ratio("perpsbot", "ceiling"),
        "pykka_over_floor": ratio("pykka", "floor"),
        "floor_over_ceiling": ratio("floor", "ceiling"),
    }
    figures["targets"] = {
        name: {
            "target": target,
            "measured": {
                "perpsbot_over_floor": figures["ratios"]["perpsbot_over_floor"]["median"],
                "perpsbot_over_pykka": figures["ratios"]["perpsbot_over_pykka"]["median"],
                "trickle_cpu_us_per_frame": trickle["perpsbot"],
                "burst_latest_mark_lag_p99_us": lag_p99,
            }[name],
        }
        for name, target in TARGETS.items()
    }
    _print(figures, loops, bursts)
    write_json("pipeline", figures, out)
    return figures


def _print(figures: dict[str, Any], loops: dict[str, float], bursts: dict[str, Any]) -> None:
    print_table(
        "receive loop + JSON decode only (frames/s, median)",
        ["loop + decoder", "frames/s", "us/frame"],
        [[name, f"{rate:,.0f}", f"{1e6 / rate:.2f}"] for name, rate in loops.items()],
    )
    tps, cpu = figures["ticks_per_s"], figures["cpu_us_per_frame"]
    paced_cpu, trickle_cpu = cpu[f"paced_{PACED_RATE}"], cpu[f"trickle_{TRICKLE_RATE}"]
    print_table(
        f"pipeline: {figures['update_frames_per_run']:,} update frames x {figures['repeats']} "
        f"at full speed (median (min-max)); latency and CPU at {PACED_RATE:,} frames/s for "
        f"{figures['paced_seconds']:g}s; CPU at a trickle of {TRICKLE_RATE} frames/s for "
        f"{figures['trickle_seconds']:g}s; ceiling = reader+{figures['ceiling_decoder']}",
        ["contender", "ticks/s", "frame->mark p50/p99 us", "frame->sample p50/p99 us",
         f"CPU us/frame @{PACED_RATE}", f"@{TRICKLE_RATE}"],
        [
            [LABELS[c], fmt_spread(tps[c], 0), _fmt(figures["frame_to_mark_us"][c]),
             _fmt(figures["frame_to_sample_us"][c]), f"{paced_cpu[c]:.1f}",
             f"{trickle_cpu[c]:.1f}"]
            for c in CONTENDERS
        ],
    )  # fmt: skip
    print_table(
        "ratios of ticks/s: median (min-max) over the repeats",
        ["ratio", "measured"],
        [[name.replace("_over_", " / "), fmt_spread(r)] for name, r in figures["ratios"].items()],
    )
    print_table(
        "targets (DESIGN section 9)",
        ["figure", "measured", "target"],
        [[name, f"{t['measured']:,.2f}", t["target"]] for name, t in figures["targets"].items()],
    )
    _print_bursts(bursts)


def _print_bursts(bursts: dict[str, dict[str, Any]]) -> None:
    burst_s = next(iter(bursts.values()))["seconds"]
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
        f"perpsbot burst: {burst_s:g}s at the source's full speed, a {CYCLE_S * 1e3:.0f} ms "
        "cycle, a consumer taking 5 ms per sample",
        ["metric (consumer, GIL switch interval)", *bursts],
        rows,
    )
