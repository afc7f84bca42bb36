"""A customer's whole billing state in one read: plan, subscription, credits with their parts and the
period's use, per feature. The billing page, the REST API, the library and the demo read it here, so a
person sees one balance everywhere, the same one `check` counts."""
