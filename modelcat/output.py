"""Where the CLI writes: answers to stdout, errors and warnings to stderr."""

from rich.console import Console

console = Console()
err = Console(stderr=True)
