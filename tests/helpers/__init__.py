"""Helpers shared by the test packages: end-to-end steps, webhook posting, the rules oracle."""
