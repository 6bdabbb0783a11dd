"""Tests of `revsync.sync`."""
