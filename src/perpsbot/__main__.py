"""``python -m perpsbot`` is the ``perpsbot`` command."""

from perpsbot.cli import main

raise SystemExit(main())
