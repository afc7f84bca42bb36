"""Pages Stripe would host: the Checkout pay page, the billing portal, invoices (page + PDF).

Their address (the `url` fields that point here) is `stripesim.hosted_urls`.
"""
