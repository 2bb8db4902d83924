"""Paging the venue's candles into the store: only what is missing, a page at a time."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from perpsbot.candle_sizes import GRANULARITY_S, PAGE_CANDLES
from perpsbot.data._store import CandleStore, Span
from perpsbot.venue import RestClient

__all__ = ["GRANULARITY_S", "PAGE_CANDLES", "DownloadProgress", "download_candles"]


@attrs.frozen(kw_only=True)
class DownloadProgress:
    """Where one product's download is, after each page."""

    product_id: str
    granularity: str
    pages: int
    candles: int
    done_s: int
    """Seconds of the missing spans asked so far."""
    missing_s: int
    """Seconds that were missing when the download began (0: nothing to fetch)."""


def download_candles(
    client: RestClient,
    store: CandleStore,
    *,
    product_id: str,
    granularity: str,
    span: Span,
    on_page: Callable[[DownloadProgress], None] | None = None,
) -> DownloadProgress:
    """Fetch the candles of ``product_id`` starting in ``span`` (``[since, until)``, Unix
    seconds, aligned down to the granularity) that the store has not asked for yet, oldest
    first, at most :data:`PAGE_CANDLES` a request through ``client`` (its shared rate budget
    and retries), each page stored with the span it covers in one transaction.

    Only closed buckets are asked for: ``until`` should be at most the start of the bucket
    in progress at the venue (the caller reads the venue's time).

    Raises:
        ValueError: an unknown granularity, or ``since`` not before ``until``.
        VenueError: the venue failed (what was stored before stays; a re-run resumes).
    """
    step = GRANULARITY_S.get(granularity)
    if step is None:
        raise ValueError(
            f"granularity must be one of {', '.join(GRANULARITY_S)}, was {granularity!r}"
        )
    since, until = span[0] // step * step, span[1] // step * step
    if since >= until:
        raise ValueError(
            f"the span must hold at least one whole {granularity} bucket, was [{span[0]},"
            f" {span[1]})"
        )
    missing = store.missing(product_id, granularity, (since, until))
    progress = DownloadProgress(
        product_id=product_id,
        granularity=granularity,
        pages=0,
        candles=0,
        done_s=0,
        missing_s=sum(b - a for a, b in missing),
    )
    for a, b in missing:
        page_start = a
        while page_start < b:
            page_end = min(b, page_start + PAGE_CANDLES * step)
            candles = client.candles(
                product_id, start_s=page_start, end_s=page_end, granularity=granularity
            )
            kept = [c for c in candles if page_start <= c.start_s < page_end]
            store.save_page(product_id, granularity, kept, (page_start, page_end))
            progress = attrs.evolve(
                progress,
                pages=progress.pages + 1,
                candles=progress.candles + len(kept),
                done_s=progress.done_s + page_end - page_start,
            )
            if on_page is not None:
                on_page(progress)
            page_start = page_end
    return progress
