"""Allow ``python -m agent_tui``."""

from agent_tui.cli import main

raise SystemExit(main())
