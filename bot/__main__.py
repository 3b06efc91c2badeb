"""`python -m bot` is the `hamroh` command."""

from bot.cli import main

raise SystemExit(main())
