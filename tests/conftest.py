from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import freezegun
import pytest

# freezegun is for tests whose subject is the wall-clock date (JWT expiry, the sim's
# funding hours). pykka's futures and our runtime's timers and asks must keep real time
# under it, or an ask with a timeout could never time out.
# plotly (the backtest chart's, never under a frozen clock) is ignored too: freezegun's first
# start in a process reads every attribute of every loaded module, and plotly's lazy
# attributes then import about 1,400 modules (plotly's figure classes, IPython, jedi): over a
# second of wall time for the first frozen test of each xdist worker that imported plotly.
freezegun.configure(extend_ignore_list=["pykka", "perpsbot.runtime", "plotly", "_plotly_utils"])

# A test run caches compiled modules even where PYTHONDONTWRITEBYTECODE is set (some
# machines' environments set it): otherwise each xdist worker compiles every module and
# rewrites every test module's asserts again on every run, about 10 s of the quick loop's
# wall time on 2 cores. The caches are __pycache__ directories, which git ignores.
sys.dont_write_bytecode = False


@pytest.fixture(scope="session", autouse=True)
def _no_perpsbot_settings_from_the_callers_shell() -> Iterator[None]:
    """The suite runs without the ``PERPSBOT_*`` variables of the shell that started it (a
    profile, keys, a journal path): the loader, the CLI and every child process would read
    them. Tests set their own with ``monkeypatch.setenv`` or a child's ``env``."""
    with pytest.MonkeyPatch.context() as patch:
        for name in [name for name in os.environ if name.startswith("PERPSBOT_")]:
            patch.delenv(name)
        yield


_REPOSITORY = Path(__file__).resolve().parents[1]
_Listing = dict[str, tuple[int, int]]


def _listing(var: Path) -> _Listing:
    """Every path under ``var`` (itself included) with its modification time and size."""
    found: _Listing = {}
    for root, directories, files in os.walk(var):
        for name in [".", *directories, *files]:
            path = os.path.normpath(os.path.join(root, name))
            try:
                stat = os.lstat(path)
            except FileNotFoundError:  # gone since the walk listed it
                continue
            found[path] = (stat.st_mtime_ns, stat.st_size)
    return found


def _how(path: str, before: _Listing, after: _Listing) -> str:
    return "created" if path not in before else "removed" if path not in after else "changed"


@pytest.fixture(scope="session")
def _var_listings() -> dict[Path, _Listing]:
    """The ``var/`` directories a test could touch by accident: the working directory's
    (where the profiles' relative journal paths point) and the repository's, as they were
    before the test that last ran."""
    places = {(Path.cwd() / "var").resolve(), _REPOSITORY / "var"}
    return {var: _listing(var) for var in sorted(places)}


@pytest.fixture(autouse=True)
def _var_of_the_working_directory_is_untouched(
    _var_listings: dict[Path, _Listing], request: pytest.FixtureRequest
) -> Iterator[None]:
    """Fails the test that created, changed or removed anything under ``./var`` (a bot's
    journal and paper account by default): tests keep their files under ``tmp_path``."""
    yield
    touched = []
    for var, before in _var_listings.items():
        after = _listing(var)
        if after != before:
            _var_listings[var] = after  # only the test that did it fails
            touched += [
                f"{path} ({_how(path, before, after)})"
                for path in sorted(before.keys() | after.keys())
                if before.get(path) != after.get(path)
            ]
    if touched:
        pytest.fail(
            f"{request.node.nodeid} touched the working directory's var/ (give it a journal"
            " under tmp_path, e.g. PERPSBOT_JOURNAL_PATH or JournalConfig(path=...); or"
            " another process wrote there meanwhile): " + ", ".join(touched),
            pytrace=False,
        )
