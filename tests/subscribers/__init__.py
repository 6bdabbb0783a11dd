"""Tests of `revsync.subscribers`."""
