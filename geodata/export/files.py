"""Writing output files safely: regular files only, atomically, with the user's permissions.

Every file conflictmap writes where a user asked (exports, maps, reports, saved mappings) goes
through :func:`write_bytes_atomic` or :func:`atomic_target`:

* The target must be a regular file or not exist yet. A directory, a device (``/dev/full``), a
  FIFO or a socket is refused with :class:`~geodata._errors.OutputError` — renaming over it would
  replace it, which is never what the user meant.
* A **symbolic link is written through**: the file it points to is replaced and the link stays
  (the same as ``cp`` or a shell ``>`` does). If the link points to something that is not a regular
  file, it is refused like that thing would be.
* Missing parent folders are created.
* The bytes go to a temporary file in the target's folder that is then renamed over the target,
  so a reader never sees a half-written file and a failure leaves the old file as it was.
* The new file gets the permissions of the file it replaces, or else ``0666`` less the umask — as
  any ordinary program's files do (a temporary file alone would be ``0600``).
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from geodata._errors import OutputError

_KINDS = (
    (stat.S_ISDIR, "a directory"), (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
)


def _umask() -> int:
    """The process umask (read by setting and restoring it; there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def output_target(path: Path | str) -> Path:
    """Check where a file may be written and create its folder.

    Args:
        path: where the user asked for the file.
    Returns:
        The path to replace: ``path`` itself, or the file a symbolic link points to.
    Raises:
        OutputError: if the target exists and is not a regular file, or its folder cannot be created.
    """
    given = Path(path)
    target = Path(os.path.realpath(given)) if given.is_symlink() else given
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise OutputError(f"cannot write {given}: {exc.strerror or exc}") from exc
    if mode is not None and not stat.S_ISREG(mode):
        kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        via = f" (through the link {given})" if target != given else ""
        raise OutputError(f"cannot write {target}{via}: it is {kind}; give a file name")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the folder {target.parent}: {exc.strerror or exc}") from exc
    return target


@contextlib.contextmanager
def atomic_target(path: Path | str, suffix: str = ".part") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success it replaces ``path`` atomically.

    For writers that need a file name (GDAL drivers). The temporary path does not exist yet.

    Args:
        path: the output file (checked with :func:`output_target`).
        suffix: ending of the temporary name (some drivers pick the format from it).
    Raises:
        OutputError: if the target is refused or the file cannot be written or renamed.
    """
    target = output_target(path)
    try:
        fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=suffix)
    except OSError as exc:
        raise OutputError(f"cannot write in {target.parent}: {exc.strerror or exc}") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.unlink()
    try:
        yield tmp
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc
    finally:
        tmp.unlink(missing_ok=True)


def write_bytes_atomic(path: Path | str, data: bytes) -> Path:
    """Write ``data`` to ``path`` (see the module docstring for the rules).

    Args:
        path: the output file; a symbolic link is written through.
        data: the whole content.
    Returns:
        The file written (the link's target for a link).
    Raises:
        OutputError: if the target is not a regular file, or writing fails (disk full, no permission);
            the old file, if any, is left as it was.
    """
    with atomic_target(path) as tmp:
        with open(tmp, "xb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
    return output_target(path)
