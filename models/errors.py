"""The base of famassign's errors, and the check of an entry point's argument types."""

from __future__ import annotations


class FamassignError(Exception):
    """Base of every error famassign raises on purpose: ``except FamassignError`` catches them."""


class ArgumentTypeError(FamassignError, TypeError):
    """An argument, or a value inside one, of the wrong type; the message says what was expected
    and what came."""


def check_argument(
    function: str, value: object, expected: type | tuple[type, ...], name: str = ""
) -> None:
    """Raise :class:`ArgumentTypeError` unless `value` is an instance of `expected`.

    The message reads "solve() takes a Scenario, not NoneType"; a `name` adds which argument
    ("write_plan() takes a Result as result, not str").
    """
    if isinstance(value, expected):
        return
    kinds = expected if isinstance(expected, tuple) else (expected,)
    wanted = " or ".join(kind.__name__ for kind in kinds)
    where = f" as {name}" if name else ""
    raise ArgumentTypeError(f"{function}() takes a {wanted}{where}, not {type(value).__name__}")


__all__ = ["ArgumentTypeError", "FamassignError", "check_argument"]
