"""Subscribers: their Stripe values derived from the mirror; CSV import, export, engagement."""
