"""The Stripe setup step: products to pick, metadata to carry, a dry run, later changes."""
