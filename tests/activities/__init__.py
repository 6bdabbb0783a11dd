"""Tests of the activity adapters shared helpers."""
