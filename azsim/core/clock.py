"""The simulator's own clock: real time plus an offset that tests move forward on demand.

Everything that ages inside the simulator (operation due times, throttling buckets, replication progress,
disk tier-change windows) reads this clock, never ``time.time()`` directly, so a test can say "ten minutes
later" instead of sleeping (``POST /_azsim/clock {"advance": 600}``). A *frozen* clock stands still between
advances: simulated time then moves only when a test says so, and nothing depends on how busy the machine is.
Tokens that Entra issues keep real time: the SDKs check their expiry against the client's own clock.
"""

from __future__ import annotations

import time


class Clock:
    def __init__(self):
        self.offset = 0.0
        self.frozen_at = None  # real epoch seconds at which the clock was frozen, or None

    def _real(self):
        return time.time() if self.frozen_at is None else self.frozen_at

    def time(self):
        """Simulated epoch seconds."""
        return self._real() + self.offset

    def monotonic(self):
        """Simulated seconds for measuring intervals (throttling buckets): the same scale as ``time()``."""
        return self.time()

    def advance(self, seconds):
        seconds = float(seconds)
        if seconds < 0:
            raise ValueError("the simulated clock only moves forward")
        self.offset += seconds
        return self.time()

    def freeze(self, frozen=True):
        if frozen and self.frozen_at is None:
            self.frozen_at = time.time()
        elif not frozen and self.frozen_at is not None:
            # carry on from the frozen instant: simulated time never jumps when the clock is released
            self.offset -= time.time() - self.frozen_at
            self.frozen_at = None
        return self.time()

    def describe(self):
        return {"now": self.time(), "offset": self.offset, "frozen": self.frozen_at is not None}

    def reset(self):
        self.offset = 0.0
        self.frozen_at = None

    def dump(self):
        return {"offset": self.offset, "frozen_at": self.frozen_at}

    def load(self, data):
        self.offset = float(data.get("offset", 0.0))
        self.frozen_at = data.get("frozen_at")
