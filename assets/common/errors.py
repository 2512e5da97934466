"""Errors shared by every parser in the project."""


class DataFileError(ValueError):
    """A data file that cannot be read as promised, located by file and line.

    Every parser raises this rather than a bare KeyError/JSONDecodeError so the person
    fixing the input is told where to look: ``<path>:<line>: <reason>`` (line is 1-based; None
    when the problem is the file as a whole, e.g. it is empty).
    """

    def __init__(self, path: object, line: int | None, reason: str) -> None:
        self.path = str(path)
        self.line = line
        self.reason = reason
        super().__init__(str(self))

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        return f"{where}: {self.reason}"

    def __reduce__(self):
        # Exceptions pickle through their args; ours has three, not the message.
        return (type(self), (self.path, self.line, self.reason))
