"""Run the `modelcat` CLI in-process the way a shell would, and hold it to its error contract."""

from typer.testing import CliRunner

from modelcat.cli import app


def run(*args: str, code: int = 0):
    """The result of `modelcat *args`; an error exit is one line on stderr, never a traceback."""
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == code, (result.stdout, result.stderr, result.exception)
    if code:
        assert "Traceback" not in result.output
        assert result.stdout == "" and result.stderr.count("\n") == 1, result.stderr
    return result
