"""`python -m coinslot.cli ...`, the same as the `coinslot` command."""

from coinslot.cli import main

main()
