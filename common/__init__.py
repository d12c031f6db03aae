"""Building blocks that know nothing of the product: every layer may use them, they use none."""
