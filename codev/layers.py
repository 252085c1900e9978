"""The channel layer of a single process (no REDIS_URL): Channels' in-memory layer, with its
expiry sweep run at most once a second.

Channels' layer sweeps every queue and every group for expired messages at each receive and each
group send, so its cost grows with the open sockets times the messages: after a restart, 1,000
sockets joining at once made ~8,000 presence deliveries, each followed by a sweep of 1,000
channels (docs/performance.md). Messages expire after a minute and group memberships after a
day, so sweeping once a second changes nothing anyone can see.
"""
import time

from channels.layers import InMemoryChannelLayer


class SweptInMemoryChannelLayer(InMemoryChannelLayer):
    SWEEP_EVERY = 1.0  # seconds
    _swept_at = float("-inf")

    def _clean_expired(self):
        now = time.monotonic()
        if now - self._swept_at < self.SWEEP_EVERY:
            return
        self._swept_at = now
        super()._clean_expired()
