"""What the process environment says of HTTP to the venue, read once per transport.

A ``requests.Session`` that trusts the environment reads it on every call: the proxies and
``NO_PROXY``, the CA bundle (``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``;
``Session.merge_environment_settings``) and ``.netrc`` (``get_netrc_auth``): about 45% of a
call's CPU in the client, the network aside. Every call of a transport goes to one host, and
each of these depends only on the host, so the transport has ``requests`` read them once,
when it is built (:func:`read_environment`), turns its session's ``trust_env`` off, and
hands them to each call as that call's settings: a call goes where, and verifies as, it did
before; a change to the environment after the client was built is not seen.
"""

from __future__ import annotations

import attrs
import requests
from requests.utils import get_netrc_auth

__all__ = ["HttpEnvironment", "read_environment"]


@attrs.frozen(kw_only=True)
class HttpEnvironment:
    """One host's settings from the environment, merged as ``requests`` merges them."""

    proxies: dict[str, str] = attrs.field(factory=dict)
    """The proxies to the host (none where ``NO_PROXY`` names it)."""
    verify: bool | str | None = None
    """The CA bundle the environment names, else the session's own setting."""
    auth: tuple[str, str] | None = None
    """``.netrc``'s login for the host, where the session has no auth of its own."""


def read_environment(session: requests.Session, url: str) -> HttpEnvironment:
    """The environment's settings for ``url``'s host, if ``session`` trusts the environment;
    its ``trust_env`` is then turned off (the calls carry what was read)."""
    if not session.trust_env:
        return HttpEnvironment()
    settings = session.merge_environment_settings(url, {}, None, None, None)
    session.trust_env = False
    return HttpEnvironment(
        proxies=dict(settings["proxies"]),
        verify=settings["verify"],
        auth=None if session.auth else get_netrc_auth(url),
    )
