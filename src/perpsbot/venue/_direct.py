"""A venue's API answered in this process, without HTTP: what a REST client hands its
requests to when the exchange runs beside it (a backtest's simulated exchange).

The client's own code still runs around it: the rate budget, the outcome hook, the mapping of
statuses to the error tree and the parsing of the JSON answer. Only the HTTP framing
(``requests``' preparation, headers, the response object) is skipped, and the signature when
the exchange checks none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

__all__ = ["DirectAnswer", "DirectApi", "Query", "query_of"]

#: A request's query, as a URL's query string parses (every value a list of strings).
Query = dict[str, list[str]]

#: The status, the headers and the body of an answer.
DirectAnswer = tuple[int, Mapping[str, str], bytes]


class DirectApi(Protocol):
    """The API of an exchange in this process."""

    @property
    def checks_signatures(self) -> bool:
        """Whether a private request needs its signed ``Authorization`` header."""
        ...

    def answer(
        self,
        method: str,
        path: str,
        *,
        query: Query,
        body: bytes,
        authorization: str | None,
        host: str,
    ) -> DirectAnswer:
        """Answer one request; ``path`` is the URL's whole path. A failure inside the
        exchange is answered as its HTTP face answers it (a 500), never raised: the client
        then maps and retries it as it does over HTTP."""
        ...


def query_of(params: Mapping[str, str | int | list[str]] | None) -> Query:
    """``params`` as the exchange would parse them from the query string ``requests`` builds:
    a list stays a list (a repeated key), anything else is one value, as text."""
    if not params:
        return {}
    return {
        name: [str(v) for v in value] if isinstance(value, list) else [str(value)]
        for name, value in params.items()
    }
