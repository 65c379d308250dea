"""Shared pytest configuration: hypothesis profile with a fixed seed for reproducible runs."""

from hypothesis import settings

settings.register_profile("book", derandomize=True, deadline=None, max_examples=60)
settings.load_profile("book")
