"""Commands beyond `validate`, one module each; importing a module registers its commands on
:data:`famassign.cli.app` (``@app.command()`` then ``@guarded``)."""

from famassign.commands import (  # noqa: F401
    compare,
    reassign,
    recommend,
    solve,
)
