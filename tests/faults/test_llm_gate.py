"""The language model's gate (app/llm/gate.py): a few calls at once, a short queue, and a clear
refusal beyond it (LLMBusyError with Retry-After); one slot per answer across its model calls;
the CLI says so in one line."""

from __future__ import annotations

import threading
import time

import pytest
from click.testing import CliRunner

from app.core.config import LLMEndpoint
from app.core.errors import LLMBusyError
from app.llm.client import OpenAIChatClient
from app.llm.gate import ChatGate
from tests.openai_stub import Reply


def _hold(gate: ChatGate, release: threading.Event, got: list[float]) -> threading.Thread:
    def run() -> None:
        with gate.slot():
            got.append(time.monotonic())
            release.wait(10)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _wait_until(cond, within: float = 5.0) -> None:
    deadline = time.monotonic() + within
    while not cond():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.01)


def test_gate_runs_limit_queues_then_refuses_at_once():
    gate = ChatGate(limit=2, queue=1, wait=5.0, where="http://127.0.0.1:1/v1")
    release, got = threading.Event(), []
    holders = [_hold(gate, release, got) for _ in range(2)]
    _wait_until(lambda: gate.running == 2)
    queued = _hold(gate, threading.Event(), got)  # waits for a slot
    _wait_until(lambda: gate.waiting == 1)
    t0 = time.monotonic()
    # The queue is full: refused without waiting.
    with pytest.raises(LLMBusyError) as refused, gate.slot():
        pass
    assert time.monotonic() - t0 < 0.5
    assert refused.value.status == 503 and refused.value.retry_after >= 1
    assert "busy: 2 answers are being written and 1 more are waiting" in str(refused.value)
    release.set()  # a running call ends: the queued one gets its slot
    for h in holders:
        h.join(5)
    _wait_until(lambda: len(got) == 3)
    assert gate.stats()["refused"] == 1
    queued.join(0)


def test_gate_refuses_after_the_wait_and_estimates_retry_after():
    gate = ChatGate(limit=1, queue=4, wait=0.3)
    release, got = threading.Event(), []
    holder = _hold(gate, release, got)
    _wait_until(lambda: gate.running == 1)
    t0 = time.monotonic()
    with pytest.raises(LLMBusyError, match=r"none came free within 0\.3 s"), gate.slot():
        pass
    assert 0.25 <= time.monotonic() - t0 < 2
    release.set()
    holder.join(5)
    gate._held_s.clear()
    assert gate.retry_after() == 5  # nothing measured yet
    gate._held_s.extend([2.2, 2.4, 2.9])  # recent answers took about 2.5 s: come back in 3 s
    assert gate.retry_after() == 3


def test_one_answer_holds_one_slot_for_all_its_model_calls(openai_stub):
    openai_stub.queue(Reply("first"), Reply("second"))
    gate = ChatGate(limit=1, queue=0, wait=0.0)
    client = OpenAIChatClient(LLMEndpoint(base_url=openai_stub.base_url, model="m",
                                          api_key=None, timeout=10), gate=gate)
    with client.hold() as held:
        assert gate.running == 1
        # Calls through the held client do not queue again (no deadlock with limit 1) ...
        assert held.complete([{"role": "user", "content": "a"}]).answer == "first"
        assert list(held.stream([{"role": "user", "content": "b"}]))[-1].answer == "second"
        # ... while anyone else is refused.
        with pytest.raises(LLMBusyError):
            client.complete([{"role": "user", "content": "c"}])
    assert gate.running == 0


def test_cli_ask_says_the_model_is_busy_in_one_line(settings, clean_db, openai_stub,
                                                     monkeypatch):
    from app.cli import cli

    monkeypatch.setenv("HOMERAG_LLM_BASE_URL", openai_stub.base_url)
    monkeypatch.setenv("HOMERAG_LLM_QUEUE", "0")
    real_init = ChatGate.__init__

    def full(self, **kwargs):  # every slot taken by other answers (another server's, say)
        real_init(self, **kwargs)
        self.running = self.limit

    monkeypatch.setattr(ChatGate, "__init__", full)
    result = CliRunner().invoke(cli, ["ask", "What is the rent?"])
    assert result.exit_code == 1
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: the language model at http://127.0.0.1:")
    assert "is busy: 4 answers are being written" in lines[0] and "try again in" in lines[0]
    assert "Traceback" not in result.output and not openai_stub.chat_requests
