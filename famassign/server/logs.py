"""The server's log lines: a record is one line whatever a request put in it.

A request path, an identifier or a file name may carry control characters (``%0a`` decodes to a
line feed, ``%00`` to NUL, ``%1b[`` starts an ANSI escape). Written as they are, they would
forge a log line that looks like the server's own, or hide one on a terminal.
:class:`OneLineFormatter`, used by every handler the server and its workers log through, writes
them as visible escapes (``\\n``, ``\\x00``, ``\\x1b``), so every line of the log that starts
without indentation is the start of a real record.
"""

from __future__ import annotations

import logging
import re
from types import TracebackType

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
"""C0 (NUL, TAB, LF, CR, ESC, ...), DEL and C1 (NEL, CSI, ...), and Unicode's line and paragraph
separators: everything a terminal or a log reader may take for a line break or an escape."""

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]
"""What :func:`sys.exc_info` gives (logging's type of a record's ``exc_info``)."""

CONTINUATION = "    "
"""The indentation of the lines of a traceback or a stack after a record's first line."""


def escape_controls(text: str) -> str:
    """`text` with every control character (see ``_CONTROL``) written as a visible escape:
    ``\\n``, ``\\r``, ``\\t``, else ``\\xNN`` or ``\\uNNNN``. Other text is unchanged."""
    return _CONTROL.sub(lambda m: _NAMED.get(m[0]) or repr(m[0])[1:-1], text)


def _indented(text: str) -> str:
    return "\n".join(CONTINUATION + escape_controls(line) for line in text.split("\n"))


class OneLineFormatter(logging.Formatter):
    """A :class:`logging.Formatter` whose message part is one line (control characters escaped
    by :func:`escape_controls`); a traceback or stack follows on lines indented by
    :data:`CONTINUATION`, each escaped the same way."""

    def formatMessage(self, record: logging.LogRecord) -> str:
        """The record's line, escaped (a line break ending it dropped)."""
        return escape_controls(super().formatMessage(record).rstrip("\r\n"))

    def formatException(self, ei: ExcInfo) -> str:
        """The traceback, every line indented and escaped."""
        return _indented(super().formatException(ei))

    def formatStack(self, stack_info: str) -> str:
        """The stack, every line indented and escaped."""
        return _indented(super().formatStack(stack_info))


__all__ = ["CONTINUATION", "OneLineFormatter", "escape_controls"]
