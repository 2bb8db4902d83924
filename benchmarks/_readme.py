"""The README's benchmark figures, rendered from the committed ``results/*.json`` only.

``python -m benchmarks readme`` rewrites the block between the README's
``<!-- benchmark-figures -->`` markers; a test checks the README still matches the JSON, so
the README can never claim more than the committed figures show.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from benchmarks._report import RESULTS

README = Path(__file__).parents[1] / "README.md"
BEGIN = "<!-- benchmark-figures:begin (python -m benchmarks readme) -->"
END = "<!-- benchmark-figures:end -->"


def _x(ratio: dict[str, float]) -> str:
    """``0.91x (0.85-0.97)``: the median of per-repeat ratios and their range."""
    if ratio["min"] == ratio["max"]:
        return f"{ratio['median']:.2f}x"
    return f"{ratio['median']:.2f}x ({ratio['min']:.2f}-{ratio['max']:.2f})"


def _source(figures: dict[str, Any]) -> str:
    env = figures["environment"]
    return (
        f"{figures['mode']} run, {figures['repeats']} "
        f"{'repeat' if figures['repeats'] == 1 else 'repeats'}, {env['when'][:10]}, "
        f"{env['cpus']} CPUs, CPython {env['python']}, pykka {env['pykka']}"
    )


def _wrap(text: str) -> str:
    indent = "  " if text.startswith("- ") else ""
    return textwrap.fill(text, width=96, subsequent_indent=indent, break_on_hyphens=False)


def _range(values: list[float]) -> str:
    low, high = min(values), max(values)
    return f"{low:.2f}" if f"{low:.2f}" == f"{high:.2f}" else f"{low:.2f}-{high:.2f}"


def _daemon(daemon: dict[str, Any]) -> str:
    scenarios, targets = daemon["scenarios"], daemon["targets"]
    idle = scenarios["idle, 4 symbols"]
    one, four = scenarios["200 l2/s, 1 symbol"], scenarios["200 l2/s x 4 symbols"]
    every = scenarios.values()
    first = [s["start_to_first_mark_s"] for s in every]
    exit_s = [s["sigterm_to_exit_s"] for s in every]
    # The sim sends a ticker frame with each level2 one; a bot that unsubscribes the ticker
    # once its books are ready receives about one frame per step (results before that did).
    tickers = (
        "plus as many ticker frames"
        if four["frames_per_s"] > 1.5 * 200 * four["runs"][0]["symbols"]
        else "the ticker unsubscribed once the books are ready"
    )
    return (
        f"Daemon ({_source(daemon)}, {daemon['window_s']:.0f} s windows; `perpsbot run "
        "--profile dev`, trading actors included, against `perpsbot sim` in another process): "
        f"idle {idle['cpu_percent_of_one_core']:.2f}% of a core (target under "
        f"{targets['idle_cpu_percent']}%); 200 level2 frames/s per symbol ({tickers}) "
        f"{one['cpu_percent_of_one_core']:.1f}% with 1 symbol "
        f"({one['frames_per_s']:,.0f} frames/s, {one['cpu_us_per_frame']:.0f} us per frame) and "
        f"{four['cpu_percent_of_one_core']:.1f}% with 4 ({four['frames_per_s']:,.0f} frames/s, "
        f"{four['cpu_us_per_frame']:.0f} us per frame; target under "
        f"{targets['4x200_cpu_percent']}%); RSS {max(s['rss_mib'] for s in every):.0f} MiB at "
        f"most (target under {targets['rss_mib']}); first mark {_range(first)} s after start "
        f"(target {targets['first_mark_s']} s); SIGTERM to exit {_range(exit_s)} s (target "
        f"{targets['exit_s']} s)."
    )


def _orders(orders: dict[str, Any]) -> str:
    journal, path = orders["journal"], orders["path"]
    normal, full = journal["normal"], journal["full"]
    wire, added, targets = path["intent_to_wire_us"], path["perpsbot_added_us"], path["targets"]
    p50_target = targets.get("added_p50_us", {}).get("target")
    met = added["p99"] < targets["added_p99_us"]["target"]
    if p50_target is not None:
        met = met and added["p50"] < p50_target
    wanted = f"under {p50_target:,} us at p50 and " if p50_target is not None else "under "
    where = " (the exchange in another process)" if "exchange" in path else ""
    return (
        f"Orders ({_source({**orders, 'repeats': journal['repeats']})}): the journal commits "
        f"{normal['events_per_s']['perpsbot']['median']:,.0f} events/s in batches "
        f"({_x(normal['events_per_s_perpsbot_over_floor'])} of the same writes on one thread); "
        "an intent is committed and confirmed in p50 "
        f"{normal['intent_commit_us']['perpsbot']['p50']:,.0f} us, p99 "
        f"{normal['intent_commit_us']['perpsbot']['p99']:,.0f} us with `synchronous = normal` "
        f"(p50 {full['intent_commit_us']['perpsbot']['p50']:,.0f} us, p99 "
        f"{full['intent_commit_us']['perpsbot']['p99']:,.0f} us with `full`). From intent to "
        f"the order's creation on the exchange{where}, one order at a time: p50 "
        f"{wire['perpsbot']['p50']:,.0f} us, p99 {wire['perpsbot']['p99']:,.0f} us through "
        f"the bot's actors against {wire['direct']['p50']:,.0f} and "
        f"{wire['direct']['p99']:,.0f} us for one lock and direct calls doing the same checks, "
        f"journal write and REST call: the actors add {added['p50']:,.0f} us at p50 and "
        f"{_added_p99(added['p99'], path.get('p99_us_per_repeat'))} (target: {wanted}"
        f"{targets['added_p99_us']['target']:,} us at p99{'' if met else ', not met'})."
    )


def _added_p99(added_us: float, per_repeat: dict[str, Any] | None) -> str:
    """What the actors add at p99; a negative figure (the direct calls' tail was the longer)
    says the machine's noise outweighs it, shown as the direct calls' spread instead."""
    if added_us >= 0 or per_repeat is None:
        return f"{added_us:,.0f} us at p99"
    direct = per_repeat["direct"]
    return (
        f"nothing measurable at p99 (the direct calls' own p99 ranged "
        f"{direct['min']:,.0f}-{direct['max']:,.0f} us over the repeats)"
    )


def _orders_before(before: dict[str, Any]) -> str:
    """The same order-path suite run right after on the code before the trading-core rework
    (commit 7408014), in the same conditions: the side-by-side answer to "is it slower"."""
    wire, added = before["path"]["intent_to_wire_us"], before["path"]["perpsbot_added_us"]
    return (
        "Run right after it in the same conditions on the code before the trading-core rework "
        f"(7408014, `results/orders-before.json`): p50 {wire['perpsbot']['p50']:,.0f} us, p99 "
        f"{wire['perpsbot']['p99']:,.0f} us through the actors against "
        f"{wire['direct']['p50']:,.0f} and {wire['direct']['p99']:,.0f} us direct, adding "
        f"{added['p50']:,.0f} us at p50 and {added['p99']:,.0f} us at p99. Both runs shared the "
        "machine with other work, so compare them with each other, not with a quiet machine's."
    )


def _memory(memory: dict[str, Any]) -> str:
    run, target = memory["run"], memory["targets"]["tail_growth_mib"]
    minutes, third = run["run_s"] / 60, run["run_s"] / 180
    grown = run["tail_growth_fitted_mib"]
    verdict = "" if grown < target else ", not met"
    return (
        f"Memory ({_source(memory)}; `perpsbot run --profile dev` trading the perps against "
        f"`perpsbot sim` in another process for {minutes:.0f} minutes, at niceness "
        f"{memory['niceness']} on a shared machine, with a venue fault every "
        f"{run['fault_every_s']:.0f} s: dropped sockets, refused reconnects and subscribes, "
        "sequence gaps, duplicate and malformed frames, a stalled feed, 429s, 500s, slow and "
        f"half-sent answers, lost order acks, orders shown late; {run['faults_injected']} "
        f"faults, {run['fills_printed']} fills): RSS {run['rss_start_mib']:.1f} MiB at the "
        f"first cycle, {run['rss_at_third_mib']:.1f} MiB after {third:.0f} minutes, "
        f"{run['rss_end_mib']:.1f} MiB at the end (peak {run['rss_peak_mib']:.1f}); over the "
        f"last {minutes - third:.0f} minutes the least-squares slope is "
        f"{run['tail_slope_mib_per_10_min']:+.2f} MiB per 10 minutes, {grown:+.2f} MiB in "
        f"all (the last sample minus the one at {third:.0f} minutes: "
        f"{run['tail_growth_end_minus_third_mib']:+.2f}; target: under {target:.0f} MiB{verdict})."
    )


def _memory_before(before: dict[str, Any]) -> str:
    """The same suite on the code before the daemon handed free memory back, run in the same
    conditions: what the fix changed."""
    run, target = before["run"], before["targets"]["tail_growth_mib"]
    verdict = "met" if run["tail_growth_fitted_mib"] < target else "missed"
    return (
        "Before the bot handed the C allocator's free memory back every minute "
        f"(`results/memory-before.json`, {before['environment']['when'][:10]}, the same suite): "
        f"RSS {run['rss_start_mib']:.1f}, {run['rss_at_third_mib']:.1f} and "
        f"{run['rss_end_mib']:.1f} MiB, {run['tail_slope_mib_per_10_min']:+.2f} MiB per 10 "
        f"minutes over the last 20, {run['tail_growth_fitted_mib']:+.2f} MiB in all (target "
        f"{verdict}): freed memory that glibc kept resident in the feed thread's malloc arena."
    )


def _backtest(backtest: dict[str, Any]) -> str:
    env, rss = backtest["environment"], backtest["rss_mib"]
    floor = backtest.get("floor")
    beside = (
        ""
        if floor is None
        else f" The one-thread floor (the same strategy, risk rules and position maths by direct"
        f" calls, no actors, no exchange) in the same run: {floor['bars_per_s']:,.0f} bars/s,"
        f" {floor['ratio']:,.0f}x the actor tree's."
    )
    replay = backtest.get("replay")
    if replay is not None:
        beside += (
            f" A recording of the dev exchange's feed ({replay['recorded_s']:,.0f} s,"
            f" {replay['frames']:,} frames) replayed through the tree in {replay['wall_s']:,.1f}"
            f" s: {replay['faster_than_recorded']:,.0f}x faster than recorded (target"
            f" {replay['target_faster']}x)."
        )
    return (
        f"Backtest ({backtest['mode']} run, {env['when'][:10]}, {env['cpus']} CPUs, CPython "
        f"{env['python']}, pykka {env['pykka']}): {backtest['days']:g} days of one-minute "
        f"candles of {len(backtest['symbols'])} symbols ({backtest['bars']:,} bars) through "
        f"the whole actor tree with the dev strategy trading took {backtest['wall_s']:,.0f} s: "
        f"{backtest['bars_per_s']:,.0f} bars/s (target {backtest['target']['bars_per_s']:,}), "
        f"{backtest['cpu_s']:,.0f} s of CPU; RSS {rss['start']:.0f} MiB at the start, "
        f"{rss['end']:.0f} MiB at the end.{beside}"
    )


def render(
    pipeline: dict[str, Any],
    runtime: dict[str, Any],
    *,
    daemon: dict[str, Any] | None = None,
    orders: dict[str, Any] | None = None,
    orders_before: dict[str, Any] | None = None,
    memory: dict[str, Any] | None = None,
    memory_before: dict[str, Any] | None = None,
    backtest: dict[str, Any] | None = None,
) -> str:
    """The README block for these figures (Markdown paragraphs and a list)."""
    blocks = []
    if "full" not in (pipeline["mode"], runtime["mode"]):
        blocks.append(
            "**These figures come from a short run on a shared, loaded machine: they show "
            "that the suites work, not how fast perpsbot is. Re-measure before quoting.**"
        )
    ratios, cpu = pipeline["ratios"], pipeline["cpu_us_per_frame"]
    trickle = cpu[f"trickle_{pipeline['trickle_frames_per_s']}"]
    mark = pipeline["frame_to_mark_us"]["perpsbot"]
    blocks.append(
        f"Pipeline ({_source(pipeline)}). perpsbot's ticks/s over each contender's, the "
        "median of per-repeat ratios (range):"
    )
    items = [
        "pykka with perpsbot's own feed and translator (only the runtime differs): "
        f"{_x(ratios['perpsbot_over_pykka_feed'])}",
        "pykka built on perpsbot's design with a lean receive loop: "
        f"{_x(ratios['perpsbot_over_pykka'])}",
        f"pykka, naive (a proxy hop per frame): {_x(ratios['perpsbot_over_pykka_naive'])}",
        "the legacy shape (perpsbot's reader, codec and book behind one RLock): "
        f"{_x(ratios['perpsbot_over_legacy'])}",
        f"the one-thread work floor: {_x(ratios['perpsbot_over_floor'])}",
    ]
    blocks.append("\n".join(_wrap(f"- {item}") for item in items))
    blocks.append(
        f"Frame to mark at {pipeline['paced_frames_per_s']:,} frames/s: p50 "
        f"{mark['p50']:,.0f} us, p99 {mark['p99']:,.0f} us. CPU per frame (every thread) at "
        f"a trickle of {pipeline['trickle_frames_per_s']} frames/s: perpsbot "
        f"{trickle['perpsbot']:.0f} us, pykka with perpsbot's feed "
        f"{trickle['pykka_feed']:.0f} us, the one-thread floor {trickle['floor']:.0f} us."
    )
    rt, pong = runtime["ratios"], runtime["ping_pong_round_trip_us"]
    blocks.append(
        f"Runtime ({_source(runtime)}), perpsbot over plain pykka, the median of per-repeat "
        f"ratios (range): tells from a thread {_x(rt['tell_throughput_perpsbot_over_pykka'])}, "
        "tells between actors "
        f"{_x(rt['actor_to_actor_tell_throughput_perpsbot_over_pykka'])}; ping-pong round "
        f"trip p50 {pong['perpsbot']['p50']:.1f} us against pykka's "
        f"{pong['pykka']['p50']:.1f} us, a time ratio (lower is faster) of "
        f"{_x(rt['ping_pong_p50_perpsbot_over_pykka'])}."
    )
    if daemon is not None:
        blocks.append(_daemon(daemon))
    if orders is not None:
        blocks.append(_orders(orders))
    if orders_before is not None:
        blocks.append(_orders_before(orders_before))
    if memory is not None:
        blocks.append(_memory(memory))
    if memory_before is not None:
        blocks.append(_memory_before(memory_before))
    if backtest is not None:
        blocks.append(_backtest(backtest))
    body = "\n\n".join(b if b.startswith("- ") else _wrap(b) for b in blocks)
    return f"{BEGIN}\n{body}\n{END}"


def committed() -> str:
    """The block for the figures in ``benchmarks/results``."""
    pipeline = json.loads((RESULTS / "pipeline.json").read_text())
    runtime = json.loads((RESULTS / "runtime.json").read_text())
    optional = {
        name: json.loads(path.read_text())
        for name in ("daemon", "orders", "orders-before", "memory", "memory-before", "backtest")
        if (path := RESULTS / f"{name}.json").exists()
    }
    for name in ("orders-before", "memory-before"):
        if name in optional:
            optional[name.replace("-", "_")] = optional.pop(name)
    return render(pipeline, runtime, **optional)


def block_in(text: str) -> str:
    """The README's current block, markers included."""
    start, end = text.index(BEGIN), text.index(END) + len(END)
    return text[start:end]


def update(readme: Path = README) -> None:
    """Rewrite the README's block from the committed figures."""
    text = readme.read_text()
    readme.write_text(text.replace(block_in(text), committed()))
    print(f"updated the benchmark figures in {readme}")
