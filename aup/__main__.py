"""``python -m aup`` runs the CLI."""

from aup.cli import main

main()
