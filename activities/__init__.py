"""Temporal activities: thin adapters from a workflow to the database or to Stripe."""
