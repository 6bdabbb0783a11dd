"""Tests of `revsync.store`."""
