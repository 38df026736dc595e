"""The one error type users see: a clear line naming the file, the row and the field."""

from __future__ import annotations


class InputError(Exception):
    """Bad input, reported as one line: `file:row: field: message`."""

    def __init__(self, file: str, message: str, row: int | None = None, field: str | None = None):
        self.file, self.row, self.field, self.message = str(file), row, field, message
        where = self.file if row is None else f"{self.file}: row {row}"
        what = message if field is None else f"field '{field}': {message}"
        super().__init__(f"{where}: {what}")


class ServiceError(Exception):
    """A remote service (an OpenAI-compatible server) failed after its retries; reported as one line."""
