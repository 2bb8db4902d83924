"""The one exception tree of perpsbot.

Every error we raise is a :class:`PerpsbotError`. Each subclass also derives from the builtin
it refines, so ``except ValueError`` keeps working for callers that do not know our names.
Messages state the rule that was broken: the thing, what was expected and what was found.
"""

from __future__ import annotations

__all__ = [
    "ActorFailedOnRequestError",
    "ActorHungError",
    "ActorNotFoundError",
    "ActorSystemBusyError",
    "AskTimeoutError",
    "BacktestError",
    "BacktestInputError",
    "ControlPlaneError",
    "DataStoreError",
    "DeadLetterError",
    "FrameDecodeError",
    "InvalidConfigError",
    "InvalidMessageError",
    "InvalidTimerError",
    "JournalError",
    "JournalFormatError",
    "JournalInUseError",
    "JournalNotFoundError",
    "JournalPathError",
    "JournalSchemaError",
    "JournalWriteError",
    "MissingExtraError",
    "OrderNotFoundError",
    "OrderOutcomeUnknownError",
    "OrderRejectedError",
    "PerpsbotError",
    "ProductNotFoundError",
    "RecordingFormatError",
    "RestartIntensityExceededError",
    "RuntimeStoppedError",
    "SimLifecycleError",
    "SimStateError",
    "SimStateInUseError",
    "StateTypeError",
    "VenueArgumentError",
    "VenueAuthError",
    "VenueError",
    "VenueRateLimitedError",
    "VenueResponseError",
    "VenueTransportError",
]


class PerpsbotError(Exception):
    """Base of every error perpsbot raises."""


# --- configuration and messages -------------------------------------------------------------


class InvalidConfigError(PerpsbotError, ValueError):
    """A configuration value broke a rule; the message names the key, expected and found."""


class InvalidMessageError(PerpsbotError, ValueError):
    """A message could not be built because a field broke its rule."""


# --- runtime --------------------------------------------------------------------------------


class RuntimeStoppedError(PerpsbotError, RuntimeError):
    """The actor runtime was asked to do something after it shut down."""


class ActorNotFoundError(PerpsbotError, LookupError):
    """No actor is registered under the given path."""


class AskTimeoutError(PerpsbotError, TimeoutError):
    """An ask got no reply within its timeout; the message may still be handled later."""


class ActorFailedOnRequestError(PerpsbotError, RuntimeError):
    """An actor was made to fail on purpose (``ActorSystem.fail``, the shell's ``crash``); its
    supervisor handles it as any other failure."""


class ActorHungError(PerpsbotError, TimeoutError):
    """An actor did not answer a watchdog ping within its deadline."""


class ActorSystemBusyError(PerpsbotError, TimeoutError):
    """An actor system was still busy when ``ActorSystem.wait_idle`` gave up; the message names
    what was busy."""


class DeadLetterError(PerpsbotError, RuntimeError):
    """A message could not be delivered and was recorded as a dead letter."""


class RestartIntensityExceededError(PerpsbotError, RuntimeError):
    """A supervisor restarted its children more often than its intensity allows."""


class InvalidTimerError(PerpsbotError, ValueError):
    """A timer's delay or interval was not a finite number of seconds within the bounds."""


# --- venue ----------------------------------------------------------------------------------


class VenueError(PerpsbotError):
    """Base of errors talking to an exchange."""


class VenueTransportError(VenueError, ConnectionError):
    """The request did not complete: connection refused, reset, timed out or a 5xx."""


class VenueRateLimitedError(VenueError):
    """The venue answered 429; ``retry_after_s`` is its ``Retry-After`` if it sent one."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class VenueAuthError(VenueError, PermissionError):
    """The venue refused our credentials (401/403) or a key could not be loaded."""


class VenueResponseError(VenueError, ValueError):
    """The venue answered with something we could not understand, or an unexpected status."""

    def __init__(self, message: str, *, status: int | None = None, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class OrderRejectedError(VenueError):
    """The venue refused an order (``success: false``); ``reason`` is its failure reason code."""

    def __init__(self, message: str, *, reason: str, client_order_id: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason
        self.client_order_id = client_order_id


class FrameDecodeError(VenueError, ValueError):
    """A websocket frame was malformed; the message says which field and what was found."""


class OrderOutcomeUnknownError(VenueTransportError):
    """An order creation failed in transit and looking it up by client order id did not settle
    whether it exists; reconcile by ``client_order_id`` before placing it again."""

    def __init__(self, message: str, *, client_order_id: str) -> None:
        super().__init__(message)
        self.client_order_id = client_order_id


class OrderNotFoundError(VenueError, LookupError):
    """The venue does not know the order with this venue order id (not yet visible right
    after its creation, or not ours)."""

    def __init__(self, message: str, *, venue_order_id: str) -> None:
        super().__init__(message)
        self.venue_order_id = venue_order_id


class VenueRpcError(VenueResponseError):
    """A JSON-RPC venue answered with an error object whose code has no more precise class
    here; ``code`` and ``rpc_message`` are the venue's."""

    def __init__(self, message: str, *, code: int, rpc_message: str) -> None:
        super().__init__(message, status=None, body=rpc_message)
        self.code = code
        self.rpc_message = rpc_message


class VenueArgumentError(VenueResponseError):
    """The venue refused a request's arguments (400 ``INVALID_ARGUMENT``: a candle range over
    its limit, an unknown granularity); ``status`` and ``body`` hold its answer."""


class ProductNotFoundError(VenueResponseError, LookupError):
    """The venue does not list the product a request named (404 ``NOT_FOUND``)."""


# --- market data store and recordings -------------------------------------------------------


class BacktestError(PerpsbotError, RuntimeError):
    """A backtest cannot run or went wrong: no data, a stuck or failed actor tree."""


class DataStoreError(PerpsbotError, OSError):
    """A candle store cannot be used: not one, of another format version, or impossible to
    create; the message names the file."""


class RecordingFormatError(PerpsbotError, ValueError):
    """A file given as a feed recording is not one this perpsbot reads (another format, another
    version, or cut short); the message names the file, the expected and the found."""


# --- backtest reports and sweeps ------------------------------------------------------------


class BacktestInputError(PerpsbotError, ValueError):
    """What a backtest report or sweep was given is not what it takes (marks without a time
    zone, a starting equity that is not positive, a sweep parameter that is not ``name=range``);
    the message names the thing, the expected and the found."""


class MissingExtraError(PerpsbotError, ImportError):
    """A feature needs an optional extra that is not installed; the message names the
    ``pip install 'perpsbot[...]'`` that brings it."""


# --- journal --------------------------------------------------------------------------------


class JournalError(PerpsbotError):
    """Base of the errors of the SQLite journal."""


class JournalNotFoundError(JournalError, FileNotFoundError):
    """A journal file to read does not exist (readers never create one)."""


class JournalFormatError(JournalError, ValueError):
    """A file given as a journal to read is not one (not an SQLite database)."""


class JournalPathError(JournalError, InvalidConfigError):
    """``journal.path`` cannot hold a journal: a directory or a device is there, or its
    directory or lock file cannot be created (nothing was created)."""


class JournalInUseError(JournalError, OSError):
    """Another process holds the journal's writer lock: one journal, one bot."""


class JournalSchemaError(JournalError, RuntimeError):
    """A journal file's schema version is not one this perpsbot can use (newer than it knows,
    or older than a read-only reader can read)."""


class JournalWriteError(JournalError, OSError):
    """The journal could not commit a batch after its retries (database locked, disk full);
    the batch is kept for the actor's successor."""


# --- simulated exchange ---------------------------------------------------------------------


class SimLifecycleError(PerpsbotError, RuntimeError):
    """The simulated exchange was used out of order (started twice, a port read before start)."""


class SimStateError(PerpsbotError, OSError):
    """The simulated exchange's saved state cannot be used: corrupt, of another format
    version, or its directory impossible to create; the message names the file and the way
    out (``--fresh``). Never silently replaced by a new state."""


class SimStateInUseError(SimStateError):
    """Another exchange runs on this saved state (one state, one exchange)."""


# --- control plane --------------------------------------------------------------------------


class ControlPlaneError(PerpsbotError, OSError):
    """The shell socket or the metrics endpoint could not be set up or reached."""


class StateTypeError(PerpsbotError, TypeError):
    """An actor answered an inspection with another class than its reader expects (the wrong
    actor at a path, or a reader out of step with the actor's reply class)."""
