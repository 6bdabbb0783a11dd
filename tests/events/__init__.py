"""Tests of `revsync.events`."""
