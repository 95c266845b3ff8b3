"""`python -m npdiff`: the same as the `npdiff` command."""

from npdiff.cli import main

main()
