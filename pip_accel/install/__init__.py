"""Installing a plan: wheels unpacked once into trees, linked into the target in a transaction."""
