"""One module per Stripe resource; each defines `router` (see stripesim.app)."""
