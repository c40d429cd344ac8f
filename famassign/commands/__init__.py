"""The commands, one module each; :mod:`famassign.cli` registers them on the app."""
