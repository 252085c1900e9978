"""The single-process channel layer sweeps expired messages at most once a second (codev/layers.py):
live messages still arrive at once, and a socket that stopped reading still loses its stale
messages and its group memberships, only up to a second later."""
import asyncio

from channels.layers import InMemoryChannelLayer

from codev.layers import SweptInMemoryChannelLayer


async def test_messages_arrive_and_stale_ones_are_still_swept():
    layer = SweptInMemoryChannelLayer(expiry=0.2)
    reader, gone = await layer.new_channel(), await layer.new_channel()
    await layer.group_add("room", reader)
    await layer.group_add("room", gone)

    await layer.group_send("room", {"type": "workshop.event", "n": 1})
    assert (await asyncio.wait_for(layer.receive(reader), 1))["n"] == 1  # live: no waiting on the sweep

    await asyncio.sleep(layer.SWEEP_EVERY + 0.1)  # `gone` never read its copy, now expired
    await layer.group_send("room", {"type": "workshop.event", "n": 2})

    assert (await asyncio.wait_for(layer.receive(reader), 1))["n"] == 2
    assert gone not in layer.groups["room"] and gone not in layer.channels


async def test_the_sweep_runs_at_most_once_a_second(monkeypatch):
    sweeps = []
    sweep = InMemoryChannelLayer._clean_expired
    monkeypatch.setattr(InMemoryChannelLayer, "_clean_expired", lambda self: sweeps.append(1) or sweep(self))
    layer = SweptInMemoryChannelLayer()
    channel = await layer.new_channel()
    await layer.group_add("room", channel)
    for n in range(200):  # 400 calls that each swept everything before
        await layer.group_send("room", {"type": "workshop.event", "n": n})
        assert (await layer.receive(channel))["n"] == n
    assert len(sweeps) <= 2
