"""Tests of `revsync.web`."""
