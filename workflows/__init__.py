"""Temporal workflows: orchestration only (full sync, one webhook event, catch-up, setup,
automations); every side effect is an activity."""
