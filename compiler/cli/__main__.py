"""`python -m perfspec.compiler.cli`."""

from . import main

main()
