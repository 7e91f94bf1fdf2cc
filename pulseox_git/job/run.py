"""Run a job's command as a monitor must: its input and output passed through, the
end of its output kept, a timeout enforced, and signals sent to us passed on.

No posting and no printing here (`job.monitor` posts, the CLI prints): this
module only runs the command and says what happened.

Process groups. Run unattended (stdin is not a terminal: cron, CI, a
supervisor), the command gets a process group of its own, and a SIGINT,
SIGTERM or SIGHUP sent to us, or a timeout, goes to that whole group, so a
shell script's children stop too. Run from a terminal (stdin is one), the
command stays in our group so it keeps the terminal (it may read it, and
Ctrl-Z works); the terminal already sends Ctrl-C's SIGINT to the whole group,
so we do not pass SIGINT on (the command would get it twice), only SIGTERM.
A SIGTERM (ours or the timeout's) is followed by SIGKILL after `kill_after`,
so the outcome is always posted in bounded time after a stop request.
"""

from __future__ import annotations

import codecs
import io
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime
from types import FrameType
from typing import IO, Any

Timer = Callable[[], float]  # seconds from a monotonic clock
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
TICK = 0.1  # how often a running command is checked for exit while its pipes stay open
DRAIN = 1.0  # how long output is still read after the command exits (children hold the pipes)
TIMED_OUT = 124  # what `run` exits with after a timeout, as timeout(1) does
NOT_FOUND, NOT_RUNNABLE = 127, 126  # as shells report them


@dataclass(frozen=True)
class RunOptions:
    """How to run: the timeout and the grace before SIGKILL (seconds), and how many
    bytes of the end of the output to keep."""

    timeout: float | None = None
    kill_after: float = 10.0
    keep_bytes: int = 8192


@dataclass(frozen=True)
class Outcome:
    """What happened to one run of a command."""

    argv: tuple[str, ...]
    started: datetime
    seconds: float  # how long it ran, from the monotonic timer
    returncode: int | None  # its own exit code; None when a signal ended it or it never ran
    signal: int | None = None  # the signal that ended it
    timed_out: bool = False
    received: int | None = None  # a signal sent to `run` while the command ran
    not_started: str | None = None  # why it never ran: "command not found: x", ...
    output: bytes = b""  # the end of its combined stdout and stderr
    output_bytes: int = 0  # how much it wrote in all

    @property
    def status(self) -> int:
        """Its exit status as a shell reports it: the code, 128+N after signal N,
        127 when the command was not found, 126 when it could not be run."""
        if self.signal is not None:
            return 128 + self.signal
        return self.returncode if self.returncode is not None else NOT_RUNNABLE

    @property
    def exit_code(self) -> int:
        """What `run` exits with: the status, or 124 after a timeout (as timeout(1))."""
        return TIMED_OUT if self.timed_out else self.status

    @property
    def ok(self) -> bool:
        return self.status == 0 and not self.timed_out


class Tail:
    """The end of a stream, at most `keep` bytes (a little more between trims), and
    how many bytes went by. Not how many lines: counting them costs as much as
    passing the bytes on (about 2 GB/s), and `run` must stay close to a pipe."""

    def __init__(self, keep: int) -> None:
        self.keep = keep
        self.data = bytearray()
        self.total = 0

    def add(self, chunk: bytes) -> None:
        self.total += len(chunk)
        if len(chunk) >= self.keep:  # a big chunk alone holds the whole tail
            self.data = bytearray(chunk[-self.keep :])
            return
        self.data += chunk
        if len(self.data) > 2 * self.keep:  # trim in big steps: cheap for chatty commands
            del self.data[: len(self.data) - self.keep]

    def value(self) -> bytes:
        return bytes(self.data[-self.keep :])


class Sink:
    """Where the command's output is passed on to, unchanged; a closed or broken
    destination (`run ... | head`) stops the passing on, never the run."""

    def __init__(self, stream: IO[Any] | None) -> None:
        self.stream = stream
        # a text stream (a StringIO standing in, say) gets text; a character cut
        # between two chunks is decoded whole
        self.text = isinstance(stream, io.TextIOBase)
        self.decoder = codecs.getincrementaldecoder("utf-8")("replace")
        if stream is not None:
            try:
                stream.flush()  # what was written before comes first
            except (OSError, ValueError):
                self.stream = None

    def write(self, chunk: bytes) -> None:
        if self.stream is None:
            return
        try:
            self.stream.write(self.decoder.decode(chunk) if self.text else chunk)
            self.stream.flush()
        except (OSError, ValueError):  # a broken pipe, a closed file
            self.stream = None


def own_stream(stream: Any) -> IO[Any] | None:
    """The binary layer of one of our own streams (sys.stdout, sys.stderr), so bytes
    pass unchanged; the stream itself when it has none."""
    if stream is None:
        return None
    text = stream if isinstance(stream, io.TextIOBase) else None
    if text is not None:
        try:
            text.flush()
        except (OSError, ValueError):
            return None
    buffer = getattr(stream, "buffer", None)
    return buffer if buffer is not None else stream  # type: ignore[no-any-return]


class Forwarder:
    """Passes the signals sent to us on to the command while it runs, and notes them."""

    def __init__(self, own_group: bool) -> None:
        self.own_group = own_group
        self.proc: subprocess.Popen[bytes] | None = None
        self.received: int | None = None
        self.stop_requested = False  # a SIGTERM came: SIGKILL follows after the grace

    def send(self, signum: int) -> None:
        """Signal the command (its whole group when it has one of its own)."""
        if self.proc is None or self.proc.returncode is not None:
            return
        try:
            if self.own_group:
                os.killpg(self.proc.pid, signum)
            else:
                self.proc.send_signal(signum)
        except (ProcessLookupError, PermissionError):
            pass  # it is gone already

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        self.received = self.received or signum
        if signum == signal.SIGTERM:
            self.stop_requested = True
        if self.own_group or signum == signal.SIGTERM:  # the terminal sent the others itself
            self.send(signum)

    def attach(self, proc: subprocess.Popen[bytes]) -> None:
        """Start forwarding to `proc`; a signal that came before it started goes now."""
        self.proc = proc
        if self.received is not None:
            self._handle(self.received, None)

    @contextmanager
    def installed(self) -> Iterator[Forwarder]:
        """Our handlers for the signals we forward, put back as they were after.
        Only the main thread may set handlers; elsewhere nothing is forwarded."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        saved = {signum: signal.signal(signum, self._handle) for signum in FORWARDED}
        try:
            yield self
        finally:
            for signum, handler in saved.items():
                signal.signal(signum, handler)


def execute(
    argv: Sequence[str],
    options: RunOptions,
    started: datetime,
    *,
    stdout: IO[Any] | None = None,
    stderr: IO[Any] | None = None,
    timer: Timer = time.monotonic,
    own_group: bool | None = None,
) -> Outcome:
    """Run `argv` to its end and say what happened. stdin is inherited; stdout and
    stderr are passed on to `stdout` and `stderr` (default: ours) as they come,
    and the end of both together is kept. `started` is when the run began (the
    run's id on its pages); the duration comes from `timer`. `own_group` None
    decides by whether stdin is a terminal (see the module's docstring)."""
    argv = tuple(argv)
    if own_group is None:
        own_group = not _stdin_is_terminal()
    out = Sink(stdout if stdout is not None else own_stream(sys.stdout))
    err = Sink(stderr if stderr is not None else own_stream(sys.stderr))
    forwarder = Forwarder(own_group)
    begin = timer()
    with forwarder.installed():
        try:
            proc = subprocess.Popen(
                argv,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                process_group=0 if own_group else None,
            )
        except OSError as error:
            return _not_started(argv, started, timer() - begin, error, forwarder.received)
        forwarder.attach(proc)
        tail = Tail(options.keep_bytes)
        timed_out = _pump(
            proc, {proc.stdout: out, proc.stderr: err}, tail, forwarder, options, timer
        )
    code = proc.returncode
    return Outcome(
        argv,
        started,
        timer() - begin,
        code if code >= 0 else None,
        -code if code < 0 else None,
        timed_out,
        forwarder.received,
        output=tail.value(),
        output_bytes=tail.total,
    )


def _pump(
    proc: subprocess.Popen[bytes],
    sinks: dict[IO[bytes] | None, Sink],
    tail: Tail,
    forwarder: Forwarder,
    options: RunOptions,
    timer: Timer,
) -> bool:
    """Pass the output on until the command ends (and its pipes close, or `DRAIN`
    seconds after), enforcing the timeout; True when the timeout fired."""
    selector = selectors.DefaultSelector()
    for pipe, sink in sinks.items():
        if pipe is not None:
            selector.register(pipe, selectors.EVENT_READ, sink)
    deadline = timer() + options.timeout if options.timeout is not None else None
    kill_at: float | None = None
    timed_out = False
    exited_at: float | None = None
    try:
        while True:
            now = timer()
            running = proc.poll() is None
            if running and deadline is not None and now >= deadline and not timed_out:
                timed_out = True
                forwarder.send(signal.SIGTERM)
                kill_at = now + options.kill_after
            if forwarder.stop_requested and kill_at is None:
                kill_at = now + options.kill_after
            if running and kill_at is not None and now >= kill_at:
                forwarder.send(signal.SIGKILL)
                kill_at = float("inf")
            if not running:
                exited_at = now if exited_at is None else exited_at
                if not selector.get_map() or now - exited_at >= DRAIN:
                    return timed_out
            wake = [t for t in (deadline if not timed_out else None, kill_at) if t is not None]
            wait = max(0.0, min([TICK, *(t - now for t in wake)]))
            if exited_at is not None:
                wait = min(wait, max(0.0, DRAIN - (now - exited_at)))
            if not selector.get_map():
                with suppress(subprocess.TimeoutExpired):
                    proc.wait(wait)
                continue
            for key, _events in selector.select(wait):
                chunk = os.read(key.fd, 65536)
                if not chunk:
                    selector.unregister(key.fileobj)
                    continue
                tail.add(chunk)
                key.data.write(chunk)
    finally:
        selector.close()
        for pipe in sinks:
            if pipe is not None:
                pipe.close()
        if proc.poll() is None:  # only when something above failed: never leave it behind
            forwarder.send(signal.SIGKILL)
        proc.wait()


def _not_started(
    argv: tuple[str, ...], started: datetime, seconds: float, error: OSError, received: int | None
) -> Outcome:
    """A command that could not be started: 127 when it is not found, else 126."""
    name = argv[0] if argv else ""
    if isinstance(error, FileNotFoundError):
        why, code = f"command not found: {name}", NOT_FOUND
    else:
        why, code = f"cannot run {name}: {error.strerror or error}", NOT_RUNNABLE
    return Outcome(argv, started, seconds, code, received=received, not_started=why)


def _stdin_is_terminal() -> bool:
    try:
        return os.isatty(0)
    except OSError:
        return False


def signal_name(signum: int) -> str:
    try:
        return signal.Signals(signum).name
    except ValueError:
        return f"signal {signum}"
