"""A run's temporaries beside its outputs: how they are named, and the removal of those a killed
run left (cleanup/io/writers.py builds every output under such a name and renames it into place)."""

from __future__ import annotations

import contextlib
import os
import shutil

# What a file or folder is built under (TMP_MARK) or moved aside to (OLD_MARK) beside its final
# name NAME, `.NAME<mark><pid>`; remove_stale_temporaries removes those of processes gone. An
# object store's output (cleanup/io/remote.py) is staged as `URL<mark><run id>`.
TMP_MARK = ".cleanup-tmp-"
OLD_MARK = ".cleanup-old-"


def remove_stale_temporaries(final: str) -> None:
    """Remove temporaries of `final` left by earlier runs whose process is gone.

    A run killed between moving the old output aside and renaming the new one into place
    leaves no output under the final name: the old one is put back rather than removed.
    Only names that end in a process id are ours: `.NAME.cleanup-tmp-notes` is left alone.
    """
    folder, name = os.path.split(final)
    with contextlib.suppress(OSError):
        for entry in os.listdir(folder or "."):
            found = temporary_of(entry, name)
            if found is not None and not _alive(found[1]):
                path = os.path.join(folder, entry)
                if found[0] == OLD_MARK and not os.path.exists(final):
                    os.rename(path, final)
                else:
                    remove_path(path)


def temporary_of(entry: str, name: str) -> tuple[str, str] | None:
    """Return (mark, process id) when `entry` is named as a run's temporary of `name`
    (`.NAME.cleanup-tmp-PID` or `.NAME.cleanup-old-PID`), else None: what
    remove_stale_temporaries may remove and paths.refuse_temporary_inputs refuses to read."""
    for mark in (TMP_MARK, OLD_MARK):
        prefix = f".{name}{mark}"
        pid = entry[len(prefix) :]
        if entry.startswith(prefix) and _is_pid(pid):
            return mark, pid
    return None


def _is_pid(text: str) -> bool:
    return text.isascii() and text.isdigit() and int(text) > 0


def _alive(pid_text: str) -> bool:
    try:
        os.kill(int(pid_text), 0)
    except (ValueError, ProcessLookupError):
        return False
    except PermissionError:
        return True
    return int(pid_text) != 0


def remove_path(path: str) -> None:
    """Remove a file or a whole folder (not a link's target), if it is there."""
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)


def temporary_name(final: str) -> str:
    """Return the sibling name under which `final` is built."""
    folder, name = os.path.split(final)
    return os.path.join(folder, f".{name}{TMP_MARK}{os.getpid()}")


def replace_into_place(tmp: str, final: str) -> None:
    """Rename `tmp` to `final`; an existing folder is moved aside first, then removed."""
    if os.path.isdir(final) and not os.path.islink(final):
        folder, name = os.path.split(final)
        old = os.path.join(folder, f".{name}{OLD_MARK}{os.getpid()}")
        os.rename(final, old)
        os.rename(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)
