"""Prometheus metrics of an actor system, gathered at scrape time.

Collectors read ``system.inspect()`` (and actors' states) when Prometheus scrapes, so the
hot path pays nothing. Counters restart from zero with the actor that keeps them (a
Prometheus ``rate()`` handles such resets). Collectors register with one
``CollectorRegistry`` per bot, never the process-wide default, so several bots (or tests)
share a process without clashing.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from perpsbot.runtime import ActorSystem

__all__ = ["REST_OUTCOMES", "RestOutcomes", "RuntimeCollector"]

#: Every outcome the REST transport reports (see ``perpsbot.venue.rest.RestClient``).
REST_OUTCOMES = ("ok", "rate_limited", "auth_error", "transport_error", "response_error")


class RestOutcomes:
    """Counts REST attempts by outcome; :meth:`record` is the venue link's outcome hook."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self._counter = Counter(
            "perpsbot_rest_requests",
            "REST attempts to the venue, by outcome",
            ["outcome"],
            registry=registry,
        )
        for outcome in REST_OUTCOMES:
            self._counter.labels(outcome)  # every series exists from the start, at zero

    def record(self, outcome: str) -> None:
        self._counter.labels(outcome).inc()


class RuntimeCollector(Collector):
    """Per-actor series of any actor system: mailbox depth, dead letters, restarts, handler
    time, messages handled, idle time; and whether the tree escalated."""

    def __init__(self, system: ActorSystem) -> None:
        self._system = system

    def collect(self) -> Iterator[Metric]:
        snapshot = self._system.inspect()
        labels = ["actor"]
        depth = GaugeMetricFamily("perpsbot_actor_mailbox_depth", "messages queued", labels=labels)
        max_depth = GaugeMetricFamily(
            "perpsbot_actor_mailbox_max_depth", "deepest the mailbox has been", labels=labels
        )
        dead = CounterMetricFamily(
            "perpsbot_actor_dead_letters", "messages that could not be delivered", labels=labels
        )
        restarts = CounterMetricFamily("perpsbot_actor_restarts", "restarts", labels=labels)
        failures = CounterMetricFamily(
            "perpsbot_actor_failures", "handler or start-up failures", labels=labels
        )
        handled = CounterMetricFamily("perpsbot_actor_handled", "messages handled", labels=labels)
        handler = CounterMetricFamily(
            "perpsbot_actor_handler_seconds", "time spent in handlers", labels=labels
        )
        idle = GaugeMetricFamily(
            "perpsbot_actor_idle_seconds", "time since the last message was handled", labels=labels
        )
        running = GaugeMetricFamily(
            "perpsbot_actor_running", "1 while an incarnation runs", labels=labels
        )
        for actor in snapshot.walk():
            value = [actor.path]
            depth.add_metric(value, actor.mailbox_depth)
            max_depth.add_metric(value, actor.mailbox_max_depth)
            dead.add_metric(value, actor.dead_letters)
            restarts.add_metric(value, actor.restarts)
            failures.add_metric(value, actor.failures)
            handled.add_metric(value, actor.handled)
            handler.add_metric(value, actor.handler_time_s)
            running.add_metric(value, 1 if actor.state == "running" else 0)
            if actor.last_message_age_s is not None:
                idle.add_metric(value, actor.last_message_age_s)
        yield from (depth, max_depth, dead, restarts, failures, handled, handler, idle, running)
        yield CounterMetricFamily(
            "perpsbot_dead_letters", "dead letters of the whole system", value=snapshot.dead_letters
        )
        yield GaugeMetricFamily(
            "perpsbot_escalated", "1 once the tree escalated", value=int(bool(snapshot.escalated))
        )
