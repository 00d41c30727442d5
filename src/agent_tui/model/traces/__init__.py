"""Traces built from the store: the forest, span trees, per-trace sums, analysis, their JSON shape."""
