"""Phases, counts and progress from a Python program that greenrun measures.

    import greenrun
    greenrun.phase("epoch 1")           # a phase starts (and lasts until the next one)
    greenrun.count(64, "samples")       # energy per sample in the report
    greenrun.progress(0.25)             # the run's projected total, while it runs
    with greenrun.phase("eval"): ...    # at exit, a phase "(after eval)" starts

Outside greenrun (no GREENRUN_MARK in the environment) every call does nothing.
A call never blocks: the FIFO is opened and written without blocking, and what
a full FIFO refuses waits here (counts added up per unit, the latest progress)
until the next call or the program's exit. Safe from threads (one lock) and
from forked processes such as DataLoader workers (a child opens its own
descriptor and never sends what its parent had waiting).

The protocol, one line per write(2) to the FIFO that GREENRUN_MARK names: a
plain line is a phase's name; a line that starts with the byte 0x1E (ASCII RS)
is a record, "\\x1ecount N UNIT" or "\\x1eprogress F". Standard library only.
"""

import atexit
import math
import os
import re
import stat
import sys
import threading
import time

__all__ = ["phase", "count", "progress", "active", "flush"]

RECORD_BYTE = "\x1e"
MAX_LABEL_BYTES = 200  # greenrun keeps a label's first 200 bytes
_UNIT = re.compile(r"[A-Za-z0-9_-]{1,32}", re.ASCII)
_EXIT_WAIT_S = 5.0  # how long the program's exit waits for a full FIFO


def _label_line(label):
    text = str(label).replace("\r", " ").replace("\n", " ").lstrip(RECORD_BYTE)
    raw = text.encode("utf-8", "replace")[:MAX_LABEL_BYTES].decode("utf-8", "ignore")
    raw = raw.rstrip(" \t")
    return raw + "\n" if raw else None


def _number(n):
    return repr(float(n))


class _Channel:
    """The FIFO, this process's descriptor for it, and what waits to be sent."""

    def __init__(self):
        self._reset()

    def _reset(self):
        self.lock = threading.Lock()
        self.pid = os.getpid()
        self.fd = None
        self.gone = False  # greenrun has gone, or GREENRUN_MARK names no FIFO
        # Waiting lines in order: a label (str) or counts since it ({unit: n}).
        self.queue = []
        self.progress = None
        self.finalizer = False

    def after_fork(self):
        """In a forked child: a fresh lock and descriptor, nothing waiting."""
        fd = self.fd
        self._reset()
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def _open(self):
        if self.fd is not None or self.gone:
            return self.fd
        path = os.environ.get("GREENRUN_MARK", "")
        if not path:
            self.gone = True
            return None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK | os.O_CLOEXEC)
        except OSError:
            self.gone = True  # ENXIO: no reader; ENOENT: removed; nobody to tell
            return None
        if not stat.S_ISFIFO(os.fstat(fd).st_mode):
            os.close(fd)
            self.gone = True
            return None
        self.fd = fd
        return fd

    def _write(self, line):
        """True when sent or never to be sent; False when the FIFO is full."""
        fd = self._open()
        if fd is None:
            return True
        try:
            os.write(fd, line.encode("utf-8"))  # <= PIPE_BUF bytes: all or nothing
            return True
        except BlockingIOError:  # EAGAIN: full
            return False
        except OSError:  # EPIPE: greenrun has gone
            self.gone = True
            return True

    def _send_queue(self):
        """Sends what waits, in order; False when the FIFO is full again."""
        while self.queue:
            item = self.queue[0]
            if isinstance(item, str):
                if not self._write(item):
                    return False
            else:
                while item:
                    unit, n = next(iter(item.items()))
                    if not self._write(f"{RECORD_BYTE}count {_number(n)} {unit}\n"):
                        return False
                    del item[unit]
            self.queue.pop(0)
        if self.progress is not None:
            if not self._write(f"{RECORD_BYTE}progress {_number(self.progress)}\n"):
                return False
            self.progress = None
        return True

    def _check_pid(self):
        if os.getpid() != self.pid:  # forked without os.fork's hooks
            self.after_fork()

    def _waiting(self):
        """Something waits: the program's exit sends it (multiprocessing's
        children leave through os._exit, which skips atexit)."""
        if self.finalizer:
            return
        self.finalizer = True
        mp = sys.modules.get("multiprocessing")
        if mp is not None and mp.parent_process() is not None:
            import multiprocessing.util

            multiprocessing.util.Finalize(None, self.flush_at_exit, exitpriority=0)

    def mark(self, line):
        self._check_pid()
        with self.lock:
            if self.gone:
                return
            if not self._send_queue() or not self._write(line):
                self.queue.append(line)
                self._waiting()

    def count(self, n, unit):
        self._check_pid()
        with self.lock:
            if self.gone:
                return
            if self._send_queue() and self._write(f"{RECORD_BYTE}count {_number(n)} {unit}\n"):
                return
            if not self.queue or isinstance(self.queue[-1], str):
                self.queue.append({})
            counts = self.queue[-1]
            counts[unit] = counts.get(unit, 0) + n
            self._waiting()

    def set_progress(self, fraction):
        self._check_pid()
        with self.lock:
            if self.gone:
                return
            self.progress = fraction
            if not self._send_queue():
                self._waiting()

    def flush(self, timeout_s=0.0):
        """Sends what waits, waiting up to timeout_s for room; True when nothing is left."""
        self._check_pid()
        deadline = time.monotonic() + timeout_s
        while True:
            with self.lock:
                if self.gone or self._send_queue():
                    return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.01)

    def flush_at_exit(self):
        if os.getpid() == self.pid:
            self.flush(_EXIT_WAIT_S)

    def active(self):
        self._check_pid()
        with self.lock:
            return self._open() is not None


_channel = _Channel()
atexit.register(_channel.flush_at_exit)
if hasattr(os, "register_at_fork"):
    # The lock is held across fork, so that a child never copies it taken.
    os.register_at_fork(
        before=lambda: _channel.lock.acquire(),
        after_in_parent=lambda: _channel.lock.release(),
        after_in_child=_channel.after_fork,
    )


class phase:
    """Starts the phase `label` now; it lasts until the next phase starts.

    As a context manager (``with greenrun.phase("eval"):``) it also starts a
    phase named "(after LABEL)" at the block's exit, so that what follows the
    block is not counted in it. A label's newlines become spaces, a 0x1E byte
    at its front is removed and only its first 200 bytes are kept.
    """

    def __init__(self, label):
        self.label = str(label)
        line = _label_line(self.label)
        if line is not None:
            _channel.mark(line)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        line = _label_line(f"(after {self.label})")
        if line is not None:
            _channel.mark(line)
        return False


def count(n, unit="samples"):
    """Adds `n` (a finite number >= 0) of `unit` (1-32 of A-Z a-z 0-9 _ -)
    to the phase in progress: greenrun reports the energy per unit."""
    if not (isinstance(unit, str) and _UNIT.fullmatch(unit)):
        raise ValueError(f"greenrun.count: unit {unit!r} must be 1 to 32 letters, digits, '_' or '-'")
    try:
        value = float(n) if not isinstance(n, bool) else math.nan
    except (TypeError, ValueError, OverflowError):
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"greenrun.count: {n!r} is not a finite number >= 0")
    _channel.count(value, unit)


def progress(fraction):
    """Tells greenrun the share of the work done (0 to 1; outside, clamped):
    it projects the run's total energy, emissions and end from it."""
    fraction = float(fraction)
    if math.isnan(fraction):
        raise ValueError("greenrun.progress: the fraction is NaN")
    _channel.set_progress(min(1.0, max(0.0, fraction)))


def active():
    """Whether this process runs under greenrun (and greenrun is still there)."""
    return _channel.active()


def flush(timeout_s=0.0):
    """Sends what a full FIFO made wait, waiting up to `timeout_s` seconds for
    room; True when nothing is left waiting. The program's exit does this too."""
    return _channel.flush(timeout_s)
