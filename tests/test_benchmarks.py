"""The benchmark suites run, and write every figure the README quotes; the pipeline's frame
source sends frames our codec decodes, each moving a mid."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from perpsbot.venue import Level2Frame, OrderBook, SubscriptionsFrame
from perpsbot.venue.codec import decode_frame

ROOT = Path(__file__).parents[1]
PIPELINE_CONTENDERS = {
    "ceiling", "floor", "legacy", "pykka", "pykka_feed", "pykka_naive", "perpsbot",
}  # fmt: skip


def _load_source() -> ModuleType:
    # benchmarks/ is not a package on the test path; its source module needs only perpsbot.
    path = ROOT / "benchmarks" / "_source.py"
    spec = importlib.util.spec_from_file_location("benchmarks_source", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_source = _load_source()
PRODUCTS, sentinel_mid, session_payloads = (
    _source.PRODUCTS, _source.sentinel_mid, _source.session_payloads,
)  # fmt: skip
TS_NS = 1_764_000_000_123_456_789


def test_source_frames_decode_in_sequence_with_the_send_time_as_timestamp() -> None:
    frames = [decode_frame(payload) for payload in session_payloads(TS_NS)]

    assert type(frames[0]) is SubscriptionsFrame
    assert [f.sequence_num for f in frames] == list(range(len(frames)))
    assert {f.ts_event_ns for f in frames} == {TS_NS}


def test_every_source_update_moves_its_products_mid_and_the_sentinels_end_the_run() -> None:
    books = {product: OrderBook(product) for product in PRODUCTS}
    frames = [decode_frame(payload) for payload in session_payloads(TS_NS)][1:]
    unmoved = []
    for frame in frames:
        assert type(frame) is Level2Frame
        (event,) = frame.events
        book = books[event.product_id]
        before = book.mid()
        book.apply(event)
        if not event.is_snapshot and book.mid() == before:
            unmoved.append(frame.sequence_num)

    assert unmoved == []
    assert {p: book.mid() for p, book in books.items()} == {p: sentinel_mid(p) for p in PRODUCTS}


def _smoke(suite: str, out: Path) -> dict[str, Any]:
    """``python -m benchmarks SUITE --smoke`` as a user runs it; its JSON."""
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", suite, "--smoke", "--out", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=280, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    figures: dict[str, Any] = json.loads((out / f"{suite}.json").read_text())
    assert figures["mode"] == "smoke"
    return figures


def _is_spread(figure: dict[str, float]) -> bool:
    return set(figure) == {"median", "min", "max"} and 0 < figure["min"] <= figure["max"]


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_pipeline_suite_runs_every_contender_and_reports_ratios_with_their_spread(
    tmp_path: Path,
) -> None:
    figures = _smoke("pipeline", tmp_path)

    assert set(figures["contenders"]) == PIPELINE_CONTENDERS
    assert set(figures["ticks_per_s"]) == PIPELINE_CONTENDERS
    assert all(_is_spread(f) for f in figures["ticks_per_s"].values())
    assert {
        "perpsbot_over_floor",
        "perpsbot_over_pykka",
        "perpsbot_over_pykka_feed",
        "perpsbot_over_pykka_naive",
        "perpsbot_over_legacy",
    } <= set(figures["ratios"])
    assert all(_is_spread(r) for r in figures["ratios"].values())
    for by_contender in figures["cpu_us_per_frame"].values():
        assert set(by_contender) == PIPELINE_CONTENDERS
        assert all(cpu > 0 for cpu in by_contender.values())
    assert figures["frame_to_mark_us"]["perpsbot"]["p99"] > 0
    assert all(t["measured"] > 0 for t in figures["targets"].values())
    assert len(figures["perpsbot_burst"]) == 4


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_runtime_suite_compares_tells_ping_pong_and_asks_side_by_side(
    tmp_path: Path,
) -> None:
    figures = _smoke("runtime", tmp_path)

    for key in ("tell_msgs_per_s", "actor_to_actor_tell_msgs_per_s"):
        assert set(figures[key]) == {"pykka", "perpsbot"}
        assert all(_is_spread(f) for f in figures[key].values())
    for key in ("ping_pong_round_trip_us", "ask_us"):
        assert all(0 < f["p50"] <= f["p99"] for f in figures[key].values())
    assert all(_is_spread(r) for r in figures["ratios"].values())
    assert figures["restart_ms"]["perpsbot"]["samples"] > 0


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_smoke_run_as_a_user_types_it_leaves_the_committed_results_alone(
    tmp_path: Path,
) -> None:
    committed = (ROOT / "benchmarks" / "results" / "runtime.json").read_bytes()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "runtime", "--smoke"],
        cwd=ROOT, capture_output=True, text=True, timeout=280, check=False,
        env={**os.environ, "TMPDIR": str(tmp_path)},
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]

    written = tmp_path / "perpsbot-benchmarks" / "smoke" / "runtime.json"
    assert f"wrote {written}" in done.stdout
    assert json.loads(written.read_text())["mode"] == "smoke"
    assert (ROOT / "benchmarks" / "results" / "runtime.json").read_bytes() == committed


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_orders_suite_measures_the_journal_and_the_order_path_side_by_side(
    tmp_path: Path,
) -> None:
    figures = _smoke("orders", tmp_path)

    path = figures["path"]
    for contender in ("direct", "perpsbot"):
        latency = path["intent_to_wire_us"][contender]
        assert 0 < latency["p50"] <= latency["p99"]
    assert set(path["perpsbot_added_us"]) == {"p50", "p99"}
    assert path["targets"]["added_p99_us"]["target"] == 1_000

    journal = figures["journal"]
    normal = journal["normal"]
    assert set(normal["events_per_s"]) == {"floor", "perpsbot"}
    assert all(_is_spread(f) for f in normal["events_per_s"].values())
    assert _is_spread(normal["events_per_s_perpsbot_over_floor"])
    assert all(0 < f["p50"] <= f["p99"] for f in normal["intent_commit_us"].values())
    assert normal["mean_events_per_commit"] > 1  # a burst is batched
    assert all(t["measured"] > 0 for t in journal["targets"].values())


@pytest.mark.slow  # python -m benchmarks as a process
def test_the_readme_quotes_exactly_the_committed_benchmark_figures() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "readme", "--check"],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip

    assert done.returncode == 0, done.stderr


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_backtest_suite_plays_stored_bars_through_the_tree_and_reports_bars_per_s(
    tmp_path: Path,
) -> None:
    figures = _smoke("backtest", tmp_path)

    assert figures["bars"] == 2 * 60  # an hour of two symbols' minutes
    assert figures["bars_per_s"] > 0
    assert figures["timers_fired"] > 0
    assert 0 < figures["rss_mib"]["start"] <= figures["rss_mib"]["end"] * 2
    assert figures["target"] == {"bars_per_s": 3_000, "full_run_s": 30}
    floor = figures["floor"]  # the one-thread floor over the same bars, in the same run
    assert floor["bars"] == figures["bars"]
    assert floor["orders"] > 0
    assert floor["ratio"] == pytest.approx(floor["bars_per_s"] / figures["bars_per_s"], rel=0.01)
    replay = figures["replay"]  # a recording of the dev feed, replayed through the tree
    assert replay["recorded_s"] >= 5
    assert replay["frames"] > 0
    assert replay["faster_than_recorded"] == pytest.approx(
        replay["recorded_s"] / replay["wall_s"], rel=0.02, abs=0.051
    )  # each rounded: the ratio to a tenth, the seconds to a millisecond
