"""The project's HTTP app: the Stripe webhook endpoint (and, later, settings pages)."""
