"""famassign: assign Head Start families to family-services staff under 45 CFR 1302.52."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("famassign")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
