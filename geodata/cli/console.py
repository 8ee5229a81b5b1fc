"""The ``conflictmap`` command installed by ``pip install .``: one entry point, several subcommands.

``conflictmap serve`` runs the dashboard (as ``scripts/start.sh`` does, without the set-up);
every other subcommand is handed unchanged to the existing command lines, which stay the
reference and keep working on their own:

* ``ingest``, ``uploads``, ``undo``, ``info``, ``boundaries``, ``export`` and any command added to
  :mod:`geodata.cli` later (``sync``) -> ``python -m geodata …``
* ``export-html``, ``export-png`` -> ``python -m dashboard …``

The geodata commands are read from its parser, so a new command there needs no change here.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

#: Subcommands handled by :mod:`dashboard.cli`.
DASHBOARD_COMMANDS: tuple[str, ...] = ("export-html", "export-png")


def geodata_commands() -> dict[str, str]:
    """Command name -> one-line help of every ``python -m geodata`` subcommand."""
    from geodata.cli import build_parser

    return _subcommands(build_parser())


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, str]:
    for action in parser._actions:  # argparse offers no public accessor for subcommands
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            return {name: helps.get(name, "") for name in action.choices}
    return {}


def serve_command(extra: Sequence[str], max_upload_mb: int) -> list[str]:
    """The ``streamlit run`` command line for the dashboard.

    Static serving (offline Leaflet) and the upload limit are passed as options because
    ``.streamlit/config.toml`` is only read from the repository root. The dashboard listens on
    127.0.0.1 unless ``extra`` names ``--server.address``.

    Args:
        extra: further Streamlit options given after ``conflictmap serve``.
        max_upload_mb: conflictmap's upload limit (Streamlit's is set one MB above so conflictmap's
            own, clearer message applies).
    Returns:
        argv for :func:`os.execv` (starting with the current Python).
    """
    import dashboard

    app = Path(dashboard.__file__).resolve().parent / "app.py"
    cmd = [sys.executable, "-m", "streamlit", "run", str(app), "--browser.gatherUsageStats", "false",
           "--server.enableStaticServing", "true", "--server.maxUploadSize", str(max_upload_mb + 1)]
    if not any(a == "--server.address" or a.startswith("--server.address=") for a in extra):
        cmd += ["--server.address", "127.0.0.1"]
    return cmd + list(extra)


def usage() -> str:
    """The help text listing every subcommand."""
    lines = ["usage: conflictmap COMMAND [options]   (conflictmap COMMAND --help for a command's options)", "",
             "commands:", f"  {'serve':<12} run the dashboard (Streamlit) on 127.0.0.1"]
    lines += [f"  {name:<12} {text}" for name, text in geodata_commands().items()]
    lines += [f"  {'export-html':<12} standalone HTML map (opens offline by double-click)",
              f"  {'export-png':<12} static PNG map for reports and slides"]
    return "\n".join(lines)


def _legacy_store_notice() -> None:
    """Move (or name) a store older versions left inside the installed package; one line on stderr."""
    from geodata.settings import adopt_legacy_store, get_settings
    from geodata.export.textsafe import printable

    try:
        notice = adopt_legacy_store(get_settings())
    except (OSError, ValueError) as exc:  # a bad setting is reported by the command itself
        if isinstance(exc, OSError):
            print(printable(f"conflictmap: could not move the old store out of the installed package: {exc}"),
                  file=sys.stderr)
        return
    if notice:
        print(printable(notice), file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Dispatch ``conflictmap COMMAND ARGS…``; returns the exit code (2 for an unknown command).

    Args:
        argv: arguments after the program name; ``None`` reads ``sys.argv``.
    Returns:
        The exit code of the command run (``serve`` replaces the process and does not return).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage(), file=sys.stdout if args else sys.stderr)
        return 0 if args else 2
    command, rest = args[0], args[1:]
    _legacy_store_notice()
    if command == "serve":
        from geodata.settings import get_settings

        cmd = serve_command(rest, get_settings().max_upload_mb)
        os.execv(cmd[0], cmd)
    if command in DASHBOARD_COMMANDS:
        from dashboard.cli import main as dashboard_main

        return dashboard_main([command, *rest])
    if command in geodata_commands():
        from geodata.cli import main as geodata_main

        return geodata_main([command, *rest])
    from geodata.export.textsafe import printable

    print(printable(f"conflictmap: unknown command {command!r}") + "\n\n" + usage(), file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
