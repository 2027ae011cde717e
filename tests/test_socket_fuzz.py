"""Random payloads on every socket event, from an officer signed in at a counter: the hub answers
each with an error or a result, never crashes, and invalid input changes nothing."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pytest

from hangdoi.fixtures.testing import LiveServer

from .test_realtime import prepared, sign_in, subscriber  # noqa: F401 — fixtures reused

ACTIONS = ["call-next", "call", "recall", "start", "finish", "no-show", "requeue", "transfer", "pause",
           "resume", "explode", ""]
scalars = st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=False) | st.text(max_size=40)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                                             max_size=4), max_leaves=12)
# Mostly near-misses of real payloads (right keys, wrong values or extra keys), some pure noise.
near_actions = st.fixed_dictionaries({"counter": values, "action": st.sampled_from(ACTIONS) | values},
                                     optional={"ticket": values, "service": values, "reason": values, "x": values})
near_subscriptions = st.fixed_dictionaries({"room": st.sampled_from(["display", "kiosk", "counter:1", "rate:x",
                                                                     "supervision", "lobby"]) | values},
                                           optional={"centre": values, "device": values})


@pytest.fixture
def server(tmp_path, prepared):  # noqa: F811
    """The fuzzing sends far faster than a page: the per-socket event limit is lifted here
    (tests/test_socket_flood.py holds the limit itself)."""
    live = LiveServer(tmp_path / "data", extra_env={"HANGDOI_SOCKET_EVENTS_PER_10_SECONDS": "0"}).start()
    live.kiosk_key = prepared[1].kiosks["k1"]
    yield live
    live.stop()


def seq(server) -> int:
    return server.get("/display/state").json()["seq"]


def test_random_socket_payloads_never_crash_and_change_nothing(server, prepared):  # noqa: F811
    _, ids = prepared
    token = sign_in(server, ids)
    server.post("/tickets", json={"service": "HT01"})
    client, _ = subscriber(server, f"counter:{ids.counter(1)}", token=token)
    answered: list[dict] = []
    try:
        before = seq(server)

        @settings(max_examples=150, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(event=st.sampled_from(["counter_action", "subscribe"]),
               payload=near_actions | near_subscriptions | values)
        def send(event, payload):
            # A real action on a valid counter would change the queue: those are not noise.
            if event == "counter_action" and isinstance(payload, dict) and payload.get("counter") == ids.counter(1) \
                    and payload.get("action") in ACTIONS[:-2] and set(payload) <= {"counter", "action"}:
                return
            answer = client.call(event, json.loads(json.dumps(payload)), timeout=10)
            assert isinstance(answer, dict)
            answered.append(answer)

        send()
        errors = [a for a in answered if "error" in a]
        subscribed = [a for a in answered if "error" not in a]
        assert len(errors) > 100
        assert all(set(a["error"]) == {"code", "message"} for a in errors)
        assert all("snapshot" in a for a in subscribed)         # only valid subscriptions succeed
        assert seq(server) == before                            # nothing changed
        assert client.call("counter_action", {"counter": ids.counter(1), "action": "call-next"})["ticket"]
    finally:
        client.close()
