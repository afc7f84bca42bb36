"""API keys for the host app's backend: `coinslot keys create`, verified on every /v1 call."""
