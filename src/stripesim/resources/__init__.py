"""One module per Stripe resource; each defines `router` (see stripesim.app).

Handlers check parameters and call the engine (`stripesim.billing`) for every rule another
caller shares (a customer, a payment method, a refund, a subscription); a handler is never
called by the engine. Shared pieces with no route of their own: `product_objects` (a product
from parameters: /v1/products and prices' `product_data`), `currency_options`,
`checkout_rules`, `subscription_item_changes`.
"""
