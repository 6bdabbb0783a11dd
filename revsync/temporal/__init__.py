"""Temporal wiring: the plugin, the client connection, the embedded dev server, the workers."""
