"""What the process environment says of HTTP to the venue, read once per transport.

A ``requests.Session`` that trusts the environment reads it on every call: the proxies and
``NO_PROXY`` (``Session.merge_environment_settings``), the CA bundle
(``REQUESTS_CA_BUNDLE``, ``CURL_CA_BUNDLE``) and ``.netrc`` (``get_netrc_auth``), which was
about 30% of a live REST call's CPU. Every call of a transport goes to one host, and each
of these depends only on the host, so the transport reads them when it is built
(:func:`read_environment`), turns its session's ``trust_env`` off, and hands them to each
call as that call's settings: a call goes where, and verifies as, it did before; a change
to the environment after the client was built is not seen.
"""

from __future__ import annotations

import os

import attrs
import requests
from requests.utils import get_environ_proxies, get_netrc_auth

__all__ = ["HttpEnvironment", "read_environment"]


@attrs.frozen(kw_only=True)
class HttpEnvironment:
    """One host's settings from the environment, as ``requests`` would have read them."""

    proxies: dict[str, str] = attrs.field(factory=dict)
    """The proxies to the host (none where ``NO_PROXY`` names it)."""
    verify: str | None = None
    """The CA bundle the environment names; None: the session's own setting."""
    auth: tuple[str, str] | None = None
    """``.netrc``'s login for the host, where the session has no auth of its own."""


def read_environment(session: requests.Session, url: str) -> HttpEnvironment:
    """The environment's settings for ``url``'s host, if ``session`` trusts the environment;
    its ``trust_env`` is then turned off (the calls carry what was read)."""
    if not session.trust_env:
        return HttpEnvironment()
    session.trust_env = False
    return HttpEnvironment(
        proxies=dict(get_environ_proxies(url, no_proxy=None)),
        verify=os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None,
        auth=None if session.auth else get_netrc_auth(url),
    )
