"""``odio label``: annotate tweets with a model in the loop (placeholder; label-core's wins)."""
