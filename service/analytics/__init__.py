"""HR analytics: aggregates only, behind the anonymity threshold."""
