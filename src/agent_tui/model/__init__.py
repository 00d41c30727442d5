"""Headless reading model: parse lines into records, index them, build traces and rolling stats."""
