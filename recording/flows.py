"""mitmproxy flows as scimcore Exchanges: the pure part of the recorder, shared by live capture and file conversion."""

from __future__ import annotations

from datetime import UTC, datetime

from mitmproxy import http

from scimcore.wire import Exchange, Headers, decode_body_encoded

OTHER = "other"
Marks = tuple[tuple[str, tuple[str, ...]], ...]
# IdP name -> lower-case words of its User-Agent. ``aup record`` passes the IdP registry's marks
# (emulators/registry.py) as the ``aup_labels`` option, every registered IdP's; these defaults, for the addon
# run by hand, are Okta's and Entra's, and a test keeps them equal to the registry's entries for those.
# Okta sends "Okta SCIM Client 1.0.0" and its test suite "OKTA SCIM Integration" (docs/okta-idp.md §2,
# §11a); Entra's User-Agent is undocumented (docs/entra-idp.md §12), these words are in Microsoft's services'
# ones (inferred).
DEFAULT_MARKS: Marks = (("okta", ("okta",)), ("entra", ("azure", "microsoft", "aad", "entra")))


def parse_marks(text: str) -> Marks:
    """``okta=okta;entra=azure,microsoft`` as marks; empty text gives the defaults."""
    if not text.strip():
        return DEFAULT_MARKS
    marks = []
    for item in text.split(";"):
        name, _, words = item.partition("=")
        marks.append((name.strip(), tuple(word.strip().lower() for word in words.split(",") if word.strip())))
    return tuple(marks)


def source_label(user_agent: str | None, marks: Marks = DEFAULT_MARKS) -> str:
    """Which IdP sent a request, from its User-Agent: the first IdP one of whose words it holds, else ``other``."""
    agent = (user_agent or "").lower()
    return next((name for name, words in marks if any(word in agent for word in words)), OTHER)


def flow_to_exchange(flow: http.HTTPFlow, source: str = "", marks: Marks = DEFAULT_MARKS) -> Exchange:
    """One flow as an Exchange (not yet redacted: the cassette writer redacts); status 0 when no response came."""
    request, response = flow.request, flow.response
    started = datetime.fromtimestamp(request.timestamp_start, UTC)
    ended = response.timestamp_end if response is not None else None
    elapsed_ms = (ended - request.timestamp_start) * 1000 if ended else 0.0
    error = flow.error.msg if flow.error else ""
    request_body, request_encoding = _body(request)
    response_body, response_encoding = _body(response) if response is not None else (None, "")
    return Exchange(
        method=request.method,
        url=request.path,  # path and query exactly as the client sent them, percent-encoding kept
        request_headers=_headers(request.headers),
        request_body=request_body,
        status=response.status_code if response is not None else 0,
        response_headers=_headers(response.headers) if response is not None else (),
        response_body=response_body,
        started=started.isoformat(timespec="microseconds").replace("+00:00", "Z"),
        elapsed_ms=round(max(elapsed_ms, 0.0), 3),
        source=source or source_label(request.headers.get("user-agent"), marks),
        error=error if response is None else "",
        request_encoding=request_encoding,
        response_encoding=response_encoding,
    )


def _headers(headers: http.Headers) -> Headers:
    """Header pairs in the order sent, names spelled as sent, repeats kept."""
    return tuple((str(name), str(value)) for name, value in headers.items(multi=True))


def _body(message: http.Message) -> tuple[object, str]:
    """The body after undoing any Content-Encoding, as scimcore stores bodies (JSON value, text or None).

    The bytes are parsed as the server parses them (JSON's own detection of UTF-8, a BOM, UTF-16 and UTF-32),
    not by the Content-Type charset, so that what the server reads is what gets redacted; the encoding found
    is kept beside the body.
    """
    content = message.get_content(strict=False)
    return decode_body_encoded(content or b"")
