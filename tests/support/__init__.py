"""Test-data builders, fixtures and helpers shared by several test modules.

Test modules import from here, never from one another (``tests/test_*.py`` hold tests only).
"""
