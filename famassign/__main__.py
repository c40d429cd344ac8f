"""`python -m famassign` runs the command line."""

from famassign.cli import main

main()
