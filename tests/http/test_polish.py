"""Papercuts of the web UI (issue 15): the no-LLM notice said once, /favicon.ico, /stats in the
navigation, the document page's "open the original at page N" link following the cited span."""

from __future__ import annotations

import re

NO_LLM = "no language model is configured"


def ask_form(client, question: str, conversation_id: int | None = None):
    data = {"question": question}
    if conversation_id is not None:
        data["conversation_id"] = str(conversation_id)
    return client.post("/ask", data=data)


def test_the_no_llm_notice_is_said_once_per_answer(client):
    first = ask_form(client, "When should the radiators be bled?")
    assert first.status_code == 200
    assert first.text.count(NO_LLM) == 1, first.text
    # The answer still says which passages to read, with its markers linked.
    answer = re.search(r'<div class="answer-text retrieval-only" id="answer-text">(.*?)</div>',
                       first.text, re.S)
    assert answer and answer.group(1).startswith("Read the most relevant passages: ")
    assert '<a class="cite" href="#cite-1">1</a>' in answer.group(1)
    conv = int(re.search(r'id="conversation-id" value="(\d+)"', first.text).group(1))

    second = ask_form(client, "and the gym contract?", conv)
    assert second.status_code == 200
    # Two turns on the page (the first as a stored turn): the notice once each.
    assert second.text.count(NO_LLM) == 2, second.text
    reopened = client.get("/", params={"c": conv}).text
    assert reopened.count('<article class="turn"') == 2
    assert reopened.count(NO_LLM) == 2
    # The JSON answer keeps its full text (API, MCP and CLI clients read it alone).
    body = client.post("/api/ask", json={"question": "When should the radiators be bled?"}).json()
    assert body["answer"].startswith(f"Retrieval-only answer: {NO_LLM}")


def test_favicon_ico_is_served_to_everyone_and_nothing_else_opens(client):
    import io

    from PIL import Image
    from sqlalchemy import text

    from app.services import users as users_service

    for_all = client.get("/favicon.ico")
    assert for_all.status_code == 200
    assert for_all.headers["content-type"] == "image/vnd.microsoft.icon"
    assert for_all.content[:4] == b"\x00\x00\x01\x00"  # an ICO header, not a PNG renamed
    assert {(16, 16), (32, 32)} <= set(Image.open(io.BytesIO(for_all.content)).info["sizes"])
    rt = client.app.state.runtime
    users_service.add_user(rt, "alice", "correct horse battery")
    try:
        # Asked for before anyone logs in (the login page's own tab icon), so public ...
        assert client.get("/favicon.ico").status_code == 200
        # ... and only that exact path: its neighbours stay behind the login.
        for path in ("/favicon.ico/", "/favicon.icon", "/favicon.ico.png"):
            r = client.get(path, headers={"Accept": "text/html"}, follow_redirects=False)
            assert r.status_code in (303, 401), (path, r.status_code)
        assert client.get("/", headers={"Accept": "text/html"},
                          follow_redirects=False).status_code == 303
    finally:
        with rt.db.engine.begin() as conn:
            conn.execute(text("DELETE FROM users"))
