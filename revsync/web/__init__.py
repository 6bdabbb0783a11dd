"""The HTTP app: the Stripe webhook endpoint, the settings page and the JSON APIs."""
