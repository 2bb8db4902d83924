"""Market data for backtests: a local candle store fed from the venue's candles endpoint,
and recordings of what the market-data feed delivered.

- :class:`CandleStore`: one SQLite file of candles keyed by (product, granularity, start),
  with the spans already downloaded; :func:`download_candles` pages the venue into it
  (``perpsbot data download``).
- :class:`RecordingWriter` and :func:`read_recording`: a versioned, compressed file of the
  feed's raw frames with their receive times and of REST quotes (``perpsbot record``,
  ``perpsbot run --record``).
"""

from perpsbot.data._download import (
    GRANULARITY_S,
    PAGE_CANDLES,
    DownloadProgress,
    download_candles,
)
from perpsbot.data._recording import (
    RECORDING_VERSION,
    RecordedEnd,
    RecordedFrame,
    RecordedQuote,
    RecordingHeader,
    RecordingWriter,
    read_recording,
    read_recording_header,
)
from perpsbot.data._store import FORMAT_VERSION, CandleStore, StoredSeries

__all__ = [
    "FORMAT_VERSION",
    "GRANULARITY_S",
    "PAGE_CANDLES",
    "RECORDING_VERSION",
    "CandleStore",
    "DownloadProgress",
    "RecordedEnd",
    "RecordedFrame",
    "RecordedQuote",
    "RecordingHeader",
    "RecordingWriter",
    "StoredSeries",
    "download_candles",
    "read_recording",
    "read_recording_header",
]
