"""The Stripe setup step: connecting a key, products to pick, metadata to carry, a dry run,
later option changes, disconnecting."""
