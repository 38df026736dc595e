"""The one error type users see: a clear line naming the file, the row and the field."""

from __future__ import annotations

# longest echoed value (a label, a key, a cell) and longest whole message an error line carries
ECHO_LIMIT = 60
MESSAGE_LIMIT = 400


def clip(value: object, limit: int = ECHO_LIMIT) -> str:
    """repr() of a value for an error line, cut to about `limit` characters with a long string's length noted."""
    text = repr(value)
    if len(text) <= limit:
        return text
    if isinstance(value, str):
        quote = text[0]
        return f"{repr(value[:limit])[:-1]}…{quote} ({len(value)} characters)"
    return f"{text[: limit - 1]}…"


def one_line(text: str, limit: int = MESSAGE_LIMIT) -> str:
    """Text as one line (newlines become spaces) cut to `limit` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def validation_message(err: dict) -> tuple[str | None, str]:
    """(dotted key path, message) of one pydantic error, echoing the offending value cut to a readable length."""
    loc = ".".join(one_line(str(p), ECHO_LIMIT) for p in err["loc"]) or None
    kind = err["type"]
    if kind == "extra_forbidden":
        return loc, "unknown key (check the spelling)"
    msg = err["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    value = err.get("input")
    if kind not in ("value_error", "assertion_error", "missing") and isinstance(value, (str, int, float, bool)):
        msg = f"{msg} (got {clip(value)})"
    return loc, msg


class InputError(Exception):
    """Bad input, reported as one line: `file:row: field: message`."""

    def __init__(self, file: str, message: str, row: int | None = None, field: str | None = None):
        self.file, self.row, self.message = str(file), row, message
        self.field = None if field is None else one_line(field, 2 * ECHO_LIMIT)
        where = self.file if row is None else f"{self.file}: row {row}"
        what = message if self.field is None else f"field '{self.field}': {message}"
        super().__init__(one_line(f"{where}: {what}"))
        self._init_args = (str(file), message, row, field)

    def __reduce__(self):
        # rebuilt from its own arguments: raised in a worker process, it reaches the stage as the same one line
        return (type(self), self._init_args)


class ServiceError(Exception):
    """A remote service (an OpenAI-compatible server) failed after its retries; reported as one line."""
