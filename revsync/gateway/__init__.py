"""Talking to Stripe: paged reads with exact request counts, and webhook signatures."""
