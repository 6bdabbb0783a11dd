"""Tests of `revsync.gateway`."""
