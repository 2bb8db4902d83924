"""Assembling the bot: its actor tree, its reload units and its venue."""

from perpsbot.bot._reporter import ConsoleReporter, ReporterState
from perpsbot.bot._sections import bot_sections, keys
from perpsbot.bot._summary import positions_left
from perpsbot.bot._tree import ROOT, WIRING, bot_spec
from perpsbot.bot._venue import (
    VENUE_LINK,
    VenueLinks,
    check_symbols,
    describe_link,
    embeds_sim,
    open_venue,
)
from perpsbot.venue.link import VenueLink

__all__ = [
    "ROOT",
    "VENUE_LINK",
    "WIRING",
    "ConsoleReporter",
    "ReporterState",
    "VenueLink",
    "VenueLinks",
    "bot_sections",
    "bot_spec",
    "check_symbols",
    "describe_link",
    "embeds_sim",
    "keys",
    "open_venue",
    "positions_left",
]
