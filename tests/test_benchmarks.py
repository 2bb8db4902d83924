"""Benchmarks: the pipeline source sends frames our codec decodes; the orders suite runs."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from perpsbot.venue import Level2Frame, OrderBook, SubscriptionsFrame
from perpsbot.venue.codec import decode_frame


def _load_source() -> ModuleType:
    # benchmarks/ is not a package on the test path; its source module needs only perpsbot.
    path = Path(__file__).parents[1] / "benchmarks" / "_source.py"
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


def test_the_orders_suite_runs_quickly_and_writes_its_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).parents[1]))  # benchmarks/ is no package
    orders = importlib.import_module("benchmarks.orders")

    figures = orders.main(quick=True, results=tmp_path)

    written = json.loads((tmp_path / "orders.json").read_text())
    journal = written["journal"]["normal"]
    assert written["journal"]["targets"] == {"events_per_s": 50_000, "intent_commit_p99_us": 2_000}
    assert journal["events_per_s"]["perpsbot"] > 0
    assert journal["events_per_s"]["floor"] > 0
    assert (
        0
        < journal["intent_commit_us"]["perpsbot"]["p50"]
        <= journal["intent_commit_us"]["perpsbot"]["p99"]
    )
    assert figures["journal"]["normal"]["events"] == journal["events"]
