"""The HTTP app: the Stripe webhook endpoints, the settings page and the JSON APIs."""
