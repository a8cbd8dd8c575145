"""Writing files so that nothing is lost: the project's one home for atomic writes and write locks.

Every file GAN Zoo writes (ONNX models, sample PNGs, JSON reports, run files, figures, checkpoints)
goes through `atomic_target`: the content is written under a temporary name in the same folder,
flushed to disk, and renamed over the target only once the caller has finished *and checked* it.
A crash, a full disk or a failed check leaves the previous file as it was and no half-written one.

`exclusive` is the lock that keeps one writer per run folder or export target. It uses `flock`
on an open lock file, so the kernel drops the lock when its holder dies, however it dies (a
SIGKILL included): a lock file left behind is stale by construction and never blocks.

Standard library only: `export` (the TensorFlow-free runtime) and `train` both write through it.
"""

import contextlib
import datetime
import errno
import os
import pathlib
import socket

try:
    import fcntl
except ImportError:  # Windows: no flock; the lock is then advisory only (see `exclusive`)
    fcntl = None


class WriteError(OSError):
    """A file could not be written (full disk, no permission, a file where a folder should be, ...).

    The message names the path and the cause in one line; the previous file at that path is intact.
    """

    def __str__(self):
        return self.strerror  # "cannot write PATH: CAUSE", without OSError's "[Errno N]"


class LockedError(ValueError):
    """Another live process holds the lock on a run folder or export target."""


def _cause(error):
    return error.strerror or str(error) or type(error).__name__


def write_error(path, error):
    """`WriteError` for `path` from the OSError that stopped the write."""
    return WriteError(error.errno, f"cannot write {path}: {_cause(error)}")


def ensure_folder(folder):
    """Create `folder` (and its parents), or raise `WriteError` naming it and the cause."""
    folder = pathlib.Path(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        pass
    except OSError as error:
        raise write_error(folder, error) from None
    if not folder.is_dir():
        blocker = next((p for p in (folder, *folder.parents) if p.exists() and not p.is_dir()), folder)
        raise WriteError(errno.ENOTDIR, f"cannot write {folder}: {blocker} is a file, not a folder")
    return folder


def check_writable(path):
    """Raise `WriteError` now if `path` cannot be written later: before the long work, not after it.

    Creates the folder, rejects a folder standing where the file should be, and creates and
    removes a temporary file beside `path` (the way `atomic_target` will write it).

    Args:
        path: the file that a command will write.
    """
    path, probe = _beside(path)
    try:
        with open(probe, "wb"):
            pass
    except OSError as error:
        raise write_error(path, error) from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return path


def _beside(path):
    """(path, its temporary name) once its folder exists and no folder stands where the file goes."""
    path = pathlib.Path(path)
    if path.is_dir():
        raise WriteError(errno.EISDIR, f"cannot write {path}: it is a folder")
    ensure_folder(path.parent)
    return path, _temporary_name(path)


def _temporary_name(path):
    # Same folder (so the rename is atomic) and same suffix (so writers that detect the format by it work).
    return path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")


def is_temporary(path):
    """Whether `path` is a half-written file `atomic_target` left behind (its writer was killed)."""
    name = pathlib.Path(path).name
    return name.startswith(".") and ".tmp-" in name


def _fsync(path, directory=False):
    flags = os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        if directory:
            return  # some platforms cannot open a folder; the rename is still atomic
        raise
    try:
        os.fsync(fd)
    except OSError:
        if not directory:
            raise
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_target(path):
    """Yield a temporary path beside `path`; on a clean exit, flush it to disk and rename it over `path`.

    Raise inside the block (a failed check, an error) and `path` is left as it was; the temporary
    is removed. An OSError while writing becomes a `WriteError` naming `path` and the cause.

    Args:
        path: the file to write; its folder is created.
    """
    path, temporary = _beside(path)
    try:
        yield temporary
        _fsync(temporary)
        os.replace(temporary, path)
        _fsync(path.parent, directory=True)
    except WriteError:
        raise
    except OSError as error:
        raise write_error(path, error) from None
    finally:
        with contextlib.suppress(OSError):
            temporary.unlink()


def write_bytes(data, path):
    """`data` (bytes) to `path`, atomically."""
    with atomic_target(path) as temporary:
        temporary.write_bytes(data)
    return pathlib.Path(path)


def write_text(text, path):
    """`text` to `path` (UTF-8), atomically."""
    return write_bytes(text.encode("utf-8"), path)


# ------------------------------------------------------------------------------------------ one writer


def _holder(lock_path):
    try:
        text = pathlib.Path(lock_path).read_text().strip()
    except OSError:
        return "another process"
    return text or "another process (starting)"


@contextlib.contextmanager
def exclusive(lock_path, what):
    """Hold the lock file `lock_path` for the block; `LockedError` naming the holder if it is taken.

    The file records "pid P on host H since T". The lock is `flock`'s, which the kernel releases
    when the holder exits or is killed, so a lock file left by a dead process is taken over. The
    lock file is removed on release.

    Args:
        lock_path: the lock file (created; its folder too).
        what: what is being written, for the message (e.g. "run folder runs/a").
    """
    lock_path = pathlib.Path(lock_path)
    ensure_folder(lock_path.parent)
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as error:
            raise write_error(lock_path, error) from None
        if fcntl is None:
            break
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise LockedError(f"{what} is in use by {_holder(lock_path)} (lock file {lock_path}).") from None
        # The previous holder may have removed the file between our open and our flock: then we
        # hold a lock on a deleted file, and must lock the one now at the path instead.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(lock_path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    started = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()} on host {socket.gethostname()} since {started}\n".encode())
    try:
        yield lock_path
    finally:
        with contextlib.suppress(OSError):
            os.unlink(lock_path)
        os.close(fd)
