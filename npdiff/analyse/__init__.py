"""Pure functions from model (and encoder) to results: evaluation, diff, structural changes."""
