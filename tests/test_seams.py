"""Time, ids and randomness come only through perpsbot.clock and perpsbot.ids."""

from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "perpsbot"
SEAMS = {SRC / "clock.py", SRC / "ids.py"}
FORBIDDEN = re.compile(
    r"\btime\.time(_ns)?\(|\btime\.monotonic(_ns)?\(|datetime\.now\(|datetime\.utcnow\(|"
    r"\buuid4\(|\brandom\.(Random|random|uniform|randint|choice|shuffle|seed)\(",
    re.MULTILINE,
)


def test_no_module_reads_time_or_makes_ids_outside_the_seams() -> None:
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path in SEAMS:
            continue
        for match in FORBIDDEN.finditer(path.read_text()):
            line = path.read_text()[: match.start()].count("\n") + 1
            offenders.append(f"{path.relative_to(SRC)}:{line}: {match.group(0)}")
    assert offenders == [], "use perpsbot.clock / perpsbot.ids instead:\n" + "\n".join(offenders)
