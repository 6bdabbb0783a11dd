"""Command groups of `starter.py`, one module each."""
