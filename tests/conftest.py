from __future__ import annotations

import os
from collections.abc import Iterator

import freezegun
import pytest

# freezegun is for tests whose subject is the wall-clock date (JWT expiry, the sim's
# funding hours). pykka's futures and our runtime's timers and asks must keep real time
# under it, or an ask with a timeout could never time out.
freezegun.configure(extend_ignore_list=["pykka", "perpsbot.runtime"])


@pytest.fixture(scope="session", autouse=True)
def _no_perpsbot_settings_from_the_callers_shell() -> Iterator[None]:
    """The suite runs without the ``PERPSBOT_*`` variables of the shell that started it (a
    profile, keys, a journal path): the loader, the CLI and every child process would read
    them. Tests set their own with ``monkeypatch.setenv`` or a child's ``env``."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("PERPSBOT_")]:
            patch.delenv(name)
        yield
