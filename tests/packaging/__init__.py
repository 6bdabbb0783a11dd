"""Tests of the built package: the wheel, installed outside the checkout."""
