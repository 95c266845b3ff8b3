"""Entry points for continuous integration: the GitHub Action's program."""
