"""Filtered views of the store and the rolling stats shown beside them."""
