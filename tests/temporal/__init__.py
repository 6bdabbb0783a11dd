"""Tests of `revsync.temporal`."""
