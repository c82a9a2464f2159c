"""``python -m nexa_cli`` runs the ``nexa`` command."""

from nexa_cli.app import main

main()
