"""The REST API under /api/: bearer-token auth, collections, strategies and destinations, manual actions."""
