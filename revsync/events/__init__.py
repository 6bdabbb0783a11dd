"""Stripe events: parsing webhooks, refetching what they name, applying them once, catching up."""
