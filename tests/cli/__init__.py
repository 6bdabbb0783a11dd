"""Tests of `revsync.cli`."""
