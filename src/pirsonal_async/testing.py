"""Helpers for testing services built on pirsonal_async (pytest plugin)."""
