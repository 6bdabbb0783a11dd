"""Credentials scoped to one workspace, and the platform key above them.

The host platform holds the platform key (`REVSYNC_PLATFORM_KEY`, a deployment setting):
it manages every workspace and mints the two workspace-scoped credentials kept here,
API keys (`api_keys`) and single-use embed links to one workspace's settings page
(`embed`). Secrets are stored as SHA-256 digests only (`secrets_hash`).
"""
