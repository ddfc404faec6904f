"""``python -m aup`` runs the CLI."""

from aup.launch import main

main()
