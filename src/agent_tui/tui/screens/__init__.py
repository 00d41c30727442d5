"""Modal screens of the TUI."""
