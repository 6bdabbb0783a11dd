"""One Stripe rate budget per Stripe account, enforced by Temporal for the whole fleet."""
