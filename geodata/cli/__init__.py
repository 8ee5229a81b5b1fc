"""Command-line entry point: ``python -m geodata COMMAND``.

Each command group lives in its own module exposing ``register(subparsers)``; the module list
below is the only place commands are wired. Every command reads the same settings
(:mod:`geodata.settings`) as the dashboard.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMAND_MODULES: tuple[str, ...] = (
    "geodata.cli.layers",   # info, export, boundaries
    "geodata.cli.ingest",   # ingest, uploads, undo
    "geodata.cli.curation",  # verify, sequences, duplicates
    "geodata.sync.cli",     # sync
    "geodata.cli.watch",    # watch, digest
    "geodata.cli.audit",    # audit
    "geodata.cli.users",    # users
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every command group registered."""
    parser = argparse.ArgumentParser(prog="python -m geodata", description="conflictmap data commands",
                                     epilog="--as NAME (anywhere on the line): record the command's changes in the "
                                            "audit log under NAME instead of the operating-system user")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command; returns the process exit code.

    2 for usage errors and for every :class:`~geodata._errors.ConflictmapError` (unreadable input,
    unusable data, store failures such as a full disk or a read-only store, unwritable output): one
    line on stderr, no traceback. Anything else is a bug and keeps its traceback.
    """
    from geodata._errors import ConflictmapError
    from geodata.service.incidents import user_message

    argv = list(sys.argv[1:] if argv is None else argv)
    if "--as" in argv:  # any command: record its changes under NAME instead of the OS user (audit log)
        i = argv.index("--as")
        if i + 1 >= len(argv):
            print("error: --as needs a NAME", file=sys.stderr)
            return 2
        from geodata.model.actor import act_as

        act_as(argv[i + 1])
        del argv[i:i + 2]
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConflictmapError as exc:
        print(f"error: {user_message(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
