"""mitmproxy addon: write every exchange through the proxy to a cassette as it completes, redacted.

Load it with ``mitmdump -s recording/recorder.py --set aup_cassette=run.jsonl`` (``aup record`` does).
One flushed line per exchange, so nothing is held in memory and a clean shutdown loses nothing; an
exchange that got no response (upstream down, client gone) is written with status 0 and the error.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

if importlib.util.find_spec("scimcore") is None or importlib.util.find_spec("recording") is None:
    # Loaded as a script by mitmdump from mitmproxy's own environment: the project's packages sit
    # next to this folder. Appended, so mitmproxy's pinned dependencies always win.
    sys.path.append(str(Path(__file__).resolve().parents[1]))

from mitmproxy import ctx, exceptions, http

from recording.flows import flow_to_exchange, parse_marks
from scimcore.wire import CassetteWriter

logger = logging.getLogger(__name__)


class ScimRecorder:
    """Records each flow to the cassette named by the ``aup_cassette`` option."""

    def __init__(self) -> None:
        self._writer: CassetteWriter | None = None
        self._warned = False
        self.written = 0

    def load(self, loader: object) -> None:
        loader.add_option(  # type: ignore[attr-defined]
            "aup_cassette", str, "", "Cassette (JSON lines) to append every exchange to, redacted."
        )
        loader.add_option(  # type: ignore[attr-defined]
            "aup_redact",
            Sequence[str],
            [],
            "More header, JSON field, PATCH path, form field or query parameter names to redact, matched as "
            "the server matches attribute names (credentials, cookies, password and OAuth tokens always are).",
        )
        loader.add_option(  # type: ignore[attr-defined]
            "aup_source", str, "", "Source label for every exchange; default: from the User-Agent (okta, entra, other)."
        )
        loader.add_option(  # type: ignore[attr-defined]
            "aup_labels",
            str,
            "",
            "IdP labels by User-Agent words, 'okta=okta;entra=azure,microsoft' (aup record passes its IdP registry's).",
        )

    def configure(self, updated: set[str]) -> None:
        if not {"aup_cassette", "aup_redact"} & updated:
            return
        self._close()
        path = ctx.options.aup_cassette
        if not path:
            return
        try:
            self._writer = CassetteWriter(path, redact_names=ctx.options.aup_redact)
        except OSError as exc:
            raise exceptions.OptionsError(f"aup_cassette: cannot open {path}: {exc.strerror or exc}") from None

    def response(self, flow: http.HTTPFlow) -> None:
        self._record(flow)

    def error(self, flow: http.HTTPFlow) -> None:
        if flow.response is None:  # with a response, the response hook has written it already
            self._record(flow)

    def done(self) -> None:
        if self._writer is not None:
            logger.info(f"recorded {self.written} exchange(s) to {self._writer.path}")
        self._close()

    def _record(self, flow: http.HTTPFlow) -> None:
        if self._writer is None:
            if not self._warned:
                logger.warning("aup_cassette is not set: exchanges are not recorded")
                self._warned = True
            return
        self._writer.write(flow_to_exchange(flow, ctx.options.aup_source, parse_marks(ctx.options.aup_labels)))
        self.written += 1

    def _close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


addons = [ScimRecorder()]
