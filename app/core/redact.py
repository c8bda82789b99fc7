"""The one place that masks secrets before text is shown or logged: URL credentials
(`http://user:pw@host`), secret-looking query and conninfo parameters (`?password=`, `token=`,
`api_key=`...) and `Authorization`/`Cookie` header values. Pure string functions, no I/O.

    redact_url("http://bob:pw@llm:8001/v1")      -> "http://bob:***@llm:8001/v1"
    redact_text("cannot reach postgresql://u:pw@db/x?password=pw")  -> "... u:***@db/x?password=***"
    redact_headers({"Authorization": "Bearer abc"}) -> {"Authorization": "Bearer ***"}
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"

# Parameter names whose values are secrets (query strings, libpq conninfo, form-like text).
SECRET_KEYS = frozenset({
    "password", "passwd", "pwd", "pass", "sslpassword", "secret", "client_secret", "token",
    "access_token", "refresh_token", "id_token", "auth", "api_key", "apikey", "api-key", "key",
    "signature", "sig", "private_key", "session", "csrf_token",
})
SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie",
                            "x-api-key", "api-key", "x-csrf-token"})

_URL_RE = re.compile(r"\b[a-zA-Z][a-zA-Z0-9+.\-]*://[^\s'\"<>`]+")
# Credentials after an auth scheme ("Authorization: Bearer x", "Basic x"): case as in headers,
# at least 8 characters, so prose ("a basic check", "token with id 3") is left alone.
_AUTH_RE = re.compile(r"\b(Bearer|Basic|Token)\s+(?=[A-Za-z0-9._~+/=\-]*[0-9_+/=\-])"
                      r"[A-Za-z0-9._~+/=\-]{8,}")
_KEY_RE = "|".join(re.escape(k) for k in sorted(SECRET_KEYS, key=len, reverse=True))
# key=value outside URLs (libpq conninfo "password=x host=y", env lines "API_KEY=x"); not
# "key: value", which is how messages name a field ("password: at least 8 characters").
_PAIR_RE = re.compile(rf"(?<![\w\-])({_KEY_RE})(\s*=\s*)('[^']*'|\"[^\"]*\"|[^\s&,;'\"]+)",
                      re.IGNORECASE)


def redact_url(url: str) -> str:
    """`url` with the password of its userinfo and secret query parameters masked.

    A URL that cannot be parsed is masked whole (its parts might be anything)."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a malformed port
    except ValueError:
        return "<unparseable URL>"
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, host = netloc.rsplit("@", 1)
        user, sep, _password = userinfo.partition(":")
        # A lone user part may itself be a token (https://TOKEN@host): mask it unless short.
        if sep:
            userinfo = f"{user}:{MASK}"
        elif len(user) > 16:
            userinfo = MASK
        netloc = f"{userinfo}@{host}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(k.lower() in SECRET_KEYS for k, _ in pairs):
            query = urlencode([(k, MASK if k.lower() in SECRET_KEYS else v) for k, v in pairs],
                              safe="*")
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))


def redact_text(text: str) -> str:
    """Every URL in `text` redacted, plus `Bearer <token>` and `password=xyz`-style pairs."""
    if not text:
        return text
    out = _URL_RE.sub(lambda m: redact_url(m.group(0)), text)
    out = _AUTH_RE.sub(lambda m: f"{m.group(1)} {MASK}", out)
    return _PAIR_RE.sub(lambda m: m.group(0) if m.group(3) == MASK
                        else f"{m.group(1)}{m.group(2)}{MASK}", out)


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """A copy of `headers` with credential-bearing values masked (the scheme word kept)."""
    out = {}
    for name, value in headers.items():
        if name.lower() in SECRET_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value and name.lower().endswith(
                "authorization") else ""
            out[name] = f"{scheme} {MASK}".strip()
        else:
            out[name] = value
    return out
