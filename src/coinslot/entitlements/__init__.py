"""entitlements."""
