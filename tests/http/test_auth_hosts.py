"""The Host allowlist on every interface and the trusted-proxy rules (app/http/hosts.py,
app/http/security.py ForwardedMiddleware), through the real app."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from app.http.hosts import host_allowed
from app.http.security import HttpPolicy


def lan_client(make_client, *, peer: str = "192.168.1.9", **overrides) -> TestClient:
    """The app as reached over the LAN (connection on 192.168.1.10, from `peer`)."""
    return TestClient(make_client(**overrides).app, base_url="http://192.168.1.10",
                      client=(peer, 50000))


@pytest.mark.parametrize(("name", "allowed"), [
    ("localhost", True), ("app.localhost", True), ("127.0.0.1", True), ("::1", True),
    ("192.168.1.10", True), ("fe80::1", True),  # addresses: not something DNS rebinding yields
    ("homerag.home.lan", True), ("docs.example.lan", True), ("example.lan", True),
    ("evil.example", False), ("homerag.home.lan.evil.example", False), ("lan", False),
    ("", False),
])
def test_host_allowlist_when_exposed(name, allowed) -> None:
    policy = HttpPolicy(bind="0.0.0.0", allowed_hosts=("homerag.home.lan", ".example.lan"))
    assert host_allowed(name, policy, exposed=True) is allowed


def test_on_loopback_only_loopback_names_and_the_configured_ones() -> None:
    policy = HttpPolicy(bind="127.0.0.1", allowed_hosts=("*.home.lan",))
    assert host_allowed("localhost", policy, exposed=False)
    assert not host_allowed("192.168.1.10", policy, exposed=False)
    assert host_allowed("x.home.lan", policy, exposed=False)
    assert not host_allowed("home.lan.evil", policy, exposed=False)
    assert host_allowed("nas", HttpPolicy(bind="nas"), exposed=True)  # the bind name
    assert host_allowed("anything", HttpPolicy(allowed_hosts=("*",)), exposed=True)


def test_dns_rebinding_is_refused_on_the_lan_interface(make_client) -> None:
    lan = lan_client(make_client)
    r = lan.get("/api/status", headers={"Host": "rebind.evil.example:8000"})
    assert r.status_code == 400 and r.json()["code"] == "host_refused"
    assert "embedder" not in r.text
    # The server's address as Host passes the guard and meets the login.
    assert lan.get("/api/status", headers={"Host": "192.168.1.10:8000"}).status_code == 401


def test_configured_names_pass_the_guard(make_client) -> None:
    lan = lan_client(make_client, allowed_hosts="homerag.home.lan")
    assert lan.get("/api/live", headers={"Host": "homerag.home.lan"}).status_code == 200
    assert lan.get("/api/live", headers={"Host": "other.home.lan"}).status_code == 400


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(make_client) -> None:
    """A LAN client cannot claim to be a proxy: its X-Forwarded-Host does not get it past the
    Host check, and its X-Forwarded-For does not change the address the limiter sees."""
    lan = lan_client(make_client, trusted_proxies="10.0.0.1/32")
    r = lan.get("/api/live", headers={"Host": "evil.example",
                                      "X-Forwarded-Host": "localhost"})
    assert r.status_code == 400


def test_forwarded_headers_from_a_trusted_proxy_are_used(make_client, caplog) -> None:
    caplog.set_level(logging.INFO, logger="app.http.access")
    proxy = lan_client(make_client, peer="10.0.0.1", trusted_proxies="10.0.0.0/24",
                       allowed_hosts="homerag.example.org")
    r = proxy.get("/api/live", headers={
        "Host": "10.0.0.5:8000", "X-Forwarded-Host": "homerag.example.org",
        "X-Forwarded-Proto": "https",
        # Leftmost: whatever the client claimed; rightmost untrusted: the real client.
        "X-Forwarded-For": "127.0.0.1, 203.0.113.9, 10.0.0.2"})
    assert r.status_code == 200
    lines = [rec.getMessage() for rec in caplog.records if rec.name == "app.http.access"]
    assert any(line.startswith("203.0.113.9 ") for line in lines), lines
    # The forwarded Host is checked like a direct one.
    r = proxy.get("/api/live", headers={"X-Forwarded-Host": "evil.example"})
    assert r.status_code == 400


def test_a_proxied_request_from_loopback_is_not_open(make_client) -> None:
    """Caddy on this machine forwarding the LAN to 127.0.0.1 must not make the LAN 'local'."""
    client = TestClient(make_client(trusted_proxies="127.0.0.1/32").app,
                        base_url="http://localhost", client=("127.0.0.1", 50000))
    assert client.get("/api/status").status_code == 200  # the owner at this machine
    r = client.get("/api/status", headers={"X-Forwarded-For": "192.168.1.7"})
    assert r.status_code == 401
