"""The training slots of this server process, and the line of runs waiting for one.

At most `MAX_CONCURRENT_RUNS` runs train at once (one per core). A run that finds them taken waits in
line, first come first served, and its page shows its place and an estimated wait. Each student holds
one place at most: one run, training or waiting, per owner (the browser: all its tabs share one).

A run belongs to the page that started it. The page polls it every fraction of a second (`poll`, from
the fragment that redraws the curves), and a run whose session the server has closed, or that no page
has polled for `POLL_PATIENCE_SECONDS`, is abandoned: it stops after its current step and its slot goes
to the next in line. A place in line is given up the same way, after `LINE_PATIENCE_SECONDS` without a
poll. A class of fifty with two slots then takes turns, and a script that presses Train and
disconnects holds a slot for seconds, not minutes.

The clock and the session check are arguments, so tests can play many sessions without waiting:

    >>> import threading
    >>> gate = threading.Event()
    >>> line = TrainingQueue(slots=1, clock=lambda: 0.0, session_alive=lambda session_id: True)
    >>> first = TrainingJob("first", 10, work=lambda on_progress, should_stop: gate.wait(5))
    >>> second = TrainingJob("second", 10, work=lambda on_progress, should_stop: "trained")
    >>> again = TrainingJob("second again", 10, work=lambda on_progress, should_stop: "trained")
    >>> line.join(first, "ann", "tab 1"), line.join(second, "bob", "tab 2"), line.join(again, "bob", "tab 3")
    ('admitted', 'admitted', 'already')
    >>> line.poll(second)  # while the first trains: next in line, after a typical run
    Place(position=1, estimated_wait=30.0, slots=1)
    >>> gate.set()
    >>> second.wait(5) and second.snapshot().result
    'trained'
"""

from __future__ import annotations

import hashlib
import heapq
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from lstm_core.config import MAX_SECONDS
from ui.training import MAX_CONCURRENT_RUNS, TrainingJob

__all__ = [
    "POLL_PATIENCE_SECONDS", "LINE_PATIENCE_SECONDS", "DISCONNECT_GRACE_SECONDS", "TYPICAL_RUN_SECONDS",
    "MAX_WAITING", "Place", "TrainingQueue", "process_queue", "session_connected", "browser_key", "ordinal",
    "wait_in_words",
]  # fmt: skip

# The page polls a running run twice a second and a waiting one every two seconds; a background tab
# still polls about once a second. Ten seconds without a poll means the page is gone.
POLL_PATIENCE_SECONDS = 10.0
# A browser polls a tab hidden for more than a few minutes only once a minute. A place in line costs
# nothing while it waits, and waits can be long: it is kept through that. A run that starts gets a full
# `POLL_PATIENCE_SECONDS` from its start to be polled.
LINE_PATIENCE_SECONDS = 90.0
# A tab whose connection drops may come back (a moment of lost Wi-Fi resumes the same session); a run
# stops once its session has been disconnected this long.
DISCONNECT_GRACE_SECONDS = 2.0
TYPICAL_RUN_SECONDS = 30.0  # the default run on one core, before this process has timed any run of its own
RECENT_RUNS = 20  # ended runs whose lengths give the typical length
MAX_WAITING = 100  # places in line: two classes at once, about 25 minutes of default runs on two slots

Admission = Literal["admitted", "already", "full"]


@dataclass(frozen=True)
class Place:
    """Where a run stands: `position` 0 while it trains, else its place in line (1 = next); the
    estimated seconds until it starts (0 while it trains); the number of training slots."""

    position: int
    estimated_wait: float
    slots: int

    @property
    def waiting(self) -> bool:
        return self.position > 0


@dataclass
class _Entry:
    job: TrainingJob
    owner: str
    session_id: str
    last_poll: float
    started: float | None = None
    disconnected_since: float | None = None


def session_connected(session_id: str) -> bool:
    """Whether a browser is connected to the server's session `session_id`; True when nothing can tell
    (no server: scripts and tests). Safe to call from any thread."""
    from streamlit import runtime

    if not runtime.exists():
        return True
    connected = runtime.get_instance().is_active_session(session_id)
    return connected if isinstance(connected, bool) else True  # AppTest's stand-in runtime answers with a mock


class TrainingQueue:
    """`slots` training slots and a first-come, first-served line for them.

    Args:
        slots: runs that train at once.
        clock: seconds, monotonic (`time.monotonic`).
        session_alive: ``session_alive(session_id) -> bool``, asked after every step of a run and whenever
            the line moves; False for `disconnect_grace` seconds counts as gone.
        patience: seconds without a `poll` after which a run is abandoned.
        line_patience: the same for a place in line.
        typical_seconds: the length assumed for a run until some have ended here.
        time_limit: the longest a run can train, whatever its settings.
        max_waiting: places in line.
    """

    def __init__(
        self,
        slots: int = MAX_CONCURRENT_RUNS,
        *,
        clock: Callable[[], float] = time.monotonic,
        session_alive: Callable[[str], bool] = session_connected,
        patience: float = POLL_PATIENCE_SECONDS,
        line_patience: float = LINE_PATIENCE_SECONDS,
        disconnect_grace: float = DISCONNECT_GRACE_SECONDS,
        typical_seconds: float = TYPICAL_RUN_SECONDS,
        time_limit: float = MAX_SECONDS,
        max_waiting: int = MAX_WAITING,
    ) -> None:
        if slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots}")
        self.slots = slots
        self.patience = patience
        self.line_patience = line_patience
        self._clock = clock
        self._session_alive = session_alive
        self._disconnect_grace = disconnect_grace
        self._prior_seconds = typical_seconds
        self._time_limit = time_limit
        self._max_waiting = max_waiting
        self._lock = threading.Lock()
        self._training: list[_Entry] = []
        self._waiting: deque[_Entry] = deque()
        self._run_lengths: deque[float] = deque(maxlen=RECENT_RUNS)

    # ------------------------------------------------------------------------------ a session's calls
    def join(self, job: TrainingJob, owner: str, session_id: str) -> Admission:
        """Put a new `job` of `owner`, started from the page of `session_id`, in a free slot or at the end of
        the line: "admitted". "already" when the owner has a run training or waiting (the job is left
        new), "full" when the line has no place left."""
        with self._lock:
            now = self._clock()
            self._tidy(now)
            # A run that has just ended keeps its slot until its thread hands it on: it no longer counts.
            if any(entry.owner == owner and entry.job.snapshot().active for entry in (*self._training, *self._waiting)):
                return "already"
            entry = _Entry(job, owner, session_id, last_poll=now)
            if len(self._training) < self.slots and not self._waiting:
                self._begin(entry, now)
            elif len(self._waiting) >= self._max_waiting:
                return "full"
            else:
                job.wait_in_line()
                self._waiting.append(entry)
            return "admitted"

    def poll(self, job: TrainingJob) -> Place | None:
        """The page's heartbeat: `job` is still watched. Returns its place, or None once it is out of the
        queue (ended, or taken out of the line)."""
        with self._lock:
            now = self._clock()
            entry = self._find(job)
            if entry is not None:
                entry.last_poll = now
            self._tidy(now)
            return self._place(job, now)

    def place(self, job: TrainingJob) -> Place | None:
        """Like `poll`, but without counting as a heartbeat."""
        with self._lock:
            now = self._clock()
            self._tidy(now)
            return self._place(job, now)

    def stop(self, job: TrainingJob) -> None:
        """The Stop button: a waiting job leaves the line, a training one ends after its current step."""
        with self._lock:
            for entry in self._waiting:
                if entry.job is job:
                    self._waiting.remove(entry)
                    job.cancel("stop")
                    return
        job.request_stop("stop")

    # -------------------------------------------------------------------------------- what it holds
    def training(self) -> tuple[TrainingJob, ...]:
        with self._lock:
            return tuple(entry.job for entry in self._training)

    def waiting(self) -> tuple[TrainingJob, ...]:
        """The line, next first."""
        with self._lock:
            return tuple(entry.job for entry in self._waiting)

    def typical_seconds(self) -> float:
        """The median length of the runs that ended lately here, or the assumed one before any has."""
        with self._lock:
            return self._typical()

    # ------------------------------------------------------------------------------------ inside
    def _find(self, job: TrainingJob) -> _Entry | None:
        return next((entry for entry in (*self._training, *self._waiting) if entry.job is job), None)

    def _typical(self) -> float:
        return statistics.median(self._run_lengths) if self._run_lengths else self._prior_seconds

    def _abandoned(self, entry: _Entry, now: float) -> str | None:
        """Why `entry`'s page is taken as gone ("closed", "unwatched"), or None while it is there."""
        if self._session_alive(entry.session_id):
            entry.disconnected_since = None
        else:
            if entry.disconnected_since is None:
                entry.disconnected_since = now
            if now - entry.disconnected_since >= self._disconnect_grace:
                return "closed"
        if now - entry.last_poll > (self.patience if entry.started is not None else self.line_patience):
            return "unwatched"
        return None

    def _tidy(self, now: float) -> None:
        """Drop abandoned places in line, ask abandoned runs to stop, and fill free slots in order."""
        for entry in list(self._waiting):
            reason = "stop" if entry.job.snapshot().stop_requested else self._abandoned(entry, now)
            if reason is not None:
                self._waiting.remove(entry)
                entry.job.cancel(reason)
        for entry in self._training:
            reason = self._abandoned(entry, now)
            if reason is not None:
                entry.job.request_stop(reason)
        while len(self._training) < self.slots and self._waiting:
            self._begin(self._waiting.popleft(), now)

    def _begin(self, entry: _Entry, now: float) -> None:
        entry.started = entry.last_poll = now
        self._training.append(entry)
        entry.job.begin(abandoned=lambda: self._check(entry), on_end=lambda job: self._ended(entry))

    def _check(self, entry: _Entry) -> str | None:
        """Asked by a run's thread after every step."""
        with self._lock:
            return self._abandoned(entry, self._clock())

    def _ended(self, entry: _Entry) -> None:
        """Called by a run's thread as it ends: its slot goes to the next in line."""
        with self._lock:
            now = self._clock()
            if entry in self._training:
                self._training.remove(entry)
                self._run_lengths.append(now - entry.started)
            self._tidy(now)

    def _remaining(self, entry: _Entry, now: float) -> float:
        """Seconds until a training run ends: its pace so far over the steps left, or the typical length
        before its first evaluation; never past the time limit."""
        elapsed = now - entry.started
        snapshot = entry.job.snapshot()
        if not snapshot.running:
            return 0.0
        if snapshot.step > 0:
            left = elapsed * (snapshot.total_steps - snapshot.step) / snapshot.step
        else:
            left = self._typical() - elapsed
        return max(0.0, min(left, self._time_limit - elapsed))

    def _place(self, job: TrainingJob, now: float) -> Place | None:
        if any(entry.job is job for entry in self._training):
            return Place(0, 0.0, self.slots)
        index = next((index for index, entry in enumerate(self._waiting) if entry.job is job), None)
        if index is None:
            return None
        # Each run ahead takes the slot that frees first and holds it for a typical run.
        free_at = [self._remaining(entry, now) for entry in self._training]
        free_at += [0.0] * (self.slots - len(free_at))
        heapq.heapify(free_at)
        typical = self._typical()
        for _ in range(index):
            heapq.heappush(free_at, heapq.heappop(free_at) + typical)
        return Place(index + 1, free_at[0], self.slots)


_process_queue = TrainingQueue()


def process_queue() -> TrainingQueue:
    """The queue of this server process, shared by every session."""
    return _process_queue


# ----------------------------------------------------------------------------------- for the page
def browser_key(xsrf_cookie: str | None) -> str | None:
    """A key that every tab of one browser shares: a digest of the token in Streamlit's XSRF cookie
    ("2|mask|masked token|time"). The server masks the token afresh in every response, so the cookie's
    text differs from tab to tab but the token does not. None when there is no readable cookie."""
    parts = (xsrf_cookie or "").strip("\"'").split("|")
    if len(parts) != 4 or parts[0] != "2":
        return None
    try:
        mask, masked = bytes.fromhex(parts[1]), bytes.fromhex(parts[2])
    except ValueError:
        return None
    if len(mask) != 4 or not masked:
        return None
    token = bytes(byte ^ mask[index % 4] for index, byte in enumerate(masked))
    return hashlib.sha256(token).hexdigest()[:32]


def ordinal(number: int) -> str:
    """1st, 2nd, 3rd, 4th, ..., 11th, 12th, 13th, ..., 21st."""
    suffix = "th" if number % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def wait_in_words(seconds: float) -> str:
    """An estimated wait, rounded as an estimate deserves: "a few seconds", "about 40 seconds", "about 3 minutes"."""
    if seconds < 10:
        return "a few seconds"
    if seconds < 90:
        return f"about {round(seconds / 10) * 10:.0f} seconds"
    minutes = round(seconds / 60)
    return f"about {minutes} minutes"
