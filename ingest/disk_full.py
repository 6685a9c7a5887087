"""A full disk ends a run with one line: which file, how much room is left, and that nothing
is lost.

DuckDB reports a full disk as text (`Could not write file "<path>": No space left on
device`), Python as an OSError with errno ENOSPC, and dlt wraps either in several layers
(after retrying the job five times), so the cause is looked for anywhere in the chain.
Nothing is lost when it happens: DuckDB rolls the transaction back, and a load package dlt
could not finish stays in its working folder, which the next run loads first
(`ingest.runner.run_source`).
"""

from __future__ import annotations

import errno
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

NO_SPACE = "No space left on device"
_FILE_WITHOUT_SPACE = re.compile(r'"(?P<path>[^"]+)": ' + NO_SPACE)


class DiskFull(Exception):
    """The disk filled up; the message is one line for the user."""


@dataclass(frozen=True)
class NoSpace:
    path: Path | None  # the file that could not be written, when the error names it


def find_no_space(error: BaseException) -> NoSpace | None:
    """The full disk behind `error` (its causes, contexts and dlt's wrapped exceptions
    included), preferring an error that names the file; None for any other error."""
    found: list[NoSpace] = []
    stack, seen = [error], set()
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno == errno.ENOSPC:
            found.append(NoSpace(Path(current.filename) if current.filename else None))
        elif NO_SPACE in str(current):
            named = _FILE_WITHOUT_SPACE.search(str(current))
            found.append(NoSpace(Path(named["path"]) if named else None))
        for linked in (current.__cause__, current.__context__, getattr(current, "exception", None)):
            if isinstance(linked, BaseException):
                stack.append(linked)
    return next((f for f in found if f.path), found[0] if found else None)


def human_size(size: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    raise AssertionError("unreachable")


def free_space(folder: Path) -> int | None:
    """Bytes free to this user on the disk that holds `folder` (its nearest existing parent)."""
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            try:
                return shutil.disk_usage(candidate).free
            except OSError:
                return None
    return None


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def describe(
    full: NoSpace,
    *,
    folders: dict[str, Path],
    pending: Path | None = None,
    audit_waiting: bool = True,
) -> str:
    """One line: the file, the room left where it (or else the fullest of `folders`) lives,
    the size of the load waiting in `pending`, and what the next run does.

    `folders` names the places a run writes, e.g. {"warehouse": ..., "dlt's working folder":
    ...}; `pending` is the pipeline's working folder when a load package waits there;
    `audit_waiting` is False when the run's audit row could not even be saved for later."""
    where = {"": full.path.parent} if full.path is not None else folders
    room = {name: free_space(folder) for name, folder in where.items()}
    name, folder = min(where.items(), key=lambda item: room[item[0]] or 0)
    free = room[name]
    what = str(full.path) if full.path else "a file"
    details = [f"{human_size(free)} free in {folder}" if free is not None else f"in {folder}"]
    if name:
        details[0] += f" ({name})"
    waiting = folder_size(pending / "load") if pending is not None else 0
    if waiting:
        details.append(f"the load waiting holds {human_size(waiting)}")
    if pending is not None:
        after = f"the load waits in {pending} and the next run finishes it once there is room"
    else:
        after = "free some space and run again: it loads what this run did not"
    if not audit_waiting:
        after += "; only this run's audit row could not be written"
    return f"disk full: could not write {what} ({'; '.join(details)}); nothing was lost: {after}"
