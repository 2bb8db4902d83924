"""pykka's private names are used in one module only, so a pykka release that renames one
breaks that module alone (and CI's run on the lowest supported pykka finds it)."""

from __future__ import annotations

import re
from pathlib import Path

import pykka
import pykka.messages

ROOT = Path(__file__).resolve().parents[2]
COMPAT = ROOT / "src" / "perpsbot" / "runtime" / "_pykka.py"
# Actor._stop is left out: the word is too common (our own objects have a _stop event).
PRIVATE_NAMES = {
    name
    for name in [*dir(pykka.ThreadingActor), *vars(pykka.messages)]
    if name.startswith("_") and not name.startswith("__") and name not in ("_stop", "_abc_impl")
}
PRIVATE = re.compile(r"\bpykka\._\w+|\b(" + "|".join(sorted(PRIVATE_NAMES)) + r")\b")


def test_pykkas_private_names_appear_only_in_the_compatibility_module() -> None:
    assert {"_actor_loop", "_ActorStop"} <= PRIVATE_NAMES  # the list is pykka's own, not empty
    offenders = []
    for path in sorted([*(ROOT / "src").rglob("*.py"), *(ROOT / "examples").rglob("*.py")]):
        if path == COMPAT:
            continue
        text = path.read_text()
        for match in PRIVATE.finditer(text):
            line = text[: match.start()].count("\n") + 1
            offenders.append(f"{path.relative_to(ROOT)}:{line}: {match.group(0)}")
    assert offenders == [], "move these into perpsbot/runtime/_pykka.py:\n" + "\n".join(offenders)
