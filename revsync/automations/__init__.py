"""Automations: which transitions start or stop which automation, their stored rules."""
