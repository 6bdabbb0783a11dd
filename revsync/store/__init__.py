"""Storage: engine and migrations, tables, encrypted keys, workspaces, the Stripe mirror."""
