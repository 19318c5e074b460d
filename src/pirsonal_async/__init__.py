"""Asyncio client for the Pirsonal Personalized Videos API."""
