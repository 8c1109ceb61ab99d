"""The Voilà server process of ``workbench serve`` (``python -m widgets.voila_server ARGS``).

:mod:`workbench.serve_watch` starts it; people run ``workbench serve``. It is the stock Voilà
(``python -m voila ARGS``) with two differences:

* **The token is in no argv and no environment.** It arrives in a file (mode 0600, in a 0700
  folder) named by ``$WORKBENCH_VOILA_TOKEN_FILE``; the file is read and removed and the variable
  dropped before Voilà starts, so ``ps`` shows no token and the kernels, which inherit the
  server's environment, never see it.
* **Kernel websockets must speak the v1 protocol** (``v1.kernel.websocket.jupyter.org``, what
  Voilà's own page asks for). Voilà 0.5.13 reads the header of every binary message it sends as
  v1; a client that connects without the subprotocol gets the legacy format, whose first eight
  bytes read as v1 make Voilà build a list of ~10^17 offsets: the server allocates without bound
  and no longer handles signals. Such connections are refused (HTTP 400) before the upgrade, and
  the header is read with bounds whatever the protocol.

It also serves everything a dashboard page loads from this server (a bureau's network has no
internet): the ``workbench`` template (``widgets/share/voila/templates/workbench``, Voilà's lab
template without its CDN links) and FontAwesome from the ``fontawesomefree`` package under
``/voila/static/fontawesomefree/``.

This module lives in ``widgets/`` because it imports Voilà, which the engine (``workbench/``)
never does.
"""
from __future__ import annotations

import json
import os
import sys

V1_PROTOCOL = "v1.kernel.websocket.jupyter.org"
TOKEN_FILE_ENV = "WORKBENCH_VOILA_TOKEN_FILE"
MIN_TOKEN_LENGTH = 32
TEMPLATE = "workbench"
TEMPLATE_ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "share")  # a Jupyter data folder


def fontawesome_root() -> str:
    """The folder holding ``fontawesomefree/css`` and ``fontawesomefree/webfonts`` (the package's static files)."""
    import fontawesomefree

    return os.path.join(os.path.dirname(os.path.abspath(fontawesomefree.__file__)), "static")


def header_of_binary_message(ws_msg: bytes):
    """The header of a v1 binary kernel message, or None when ``ws_msg`` is not one.

    v1 layout: a little-endian uint64 count ``n`` of offsets, then ``n`` uint64 offsets, then the
    parts (channel, header, parent header, metadata, content, buffers). Every number is checked
    against the message's length before use, so a message of another format costs O(1).
    """
    size = len(ws_msg)
    if size < 8:
        return None
    count = int.from_bytes(ws_msg[:8], "little")
    if count < 3 or 8 * (count + 1) > size:
        return None
    start = int.from_bytes(ws_msg[16:24], "little")
    end = int.from_bytes(ws_msg[24:32], "little")
    if not 8 * (count + 1) <= start <= end <= size:
        return None
    try:
        header = json.loads(ws_msg[start:end].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return header if isinstance(header, dict) else None


def requested_subprotocols(header_value) -> list:
    """The subprotocols a websocket handshake's ``Sec-WebSocket-Protocol`` header asks for."""
    return [p.strip() for p in (header_value or "").split(",") if p.strip()]


def guarded_handler_class():
    """Voilà's kernel websocket handler, refusing non-v1 clients and reading headers with bounds."""
    from voila.tornado.kernel_websocket_handler import VoilaKernelWebsocketHandler

    class GuardedKernelWebsocketHandler(VoilaKernelWebsocketHandler):
        async def get(self, *args, **kwargs):
            asked = requested_subprotocols(self.request.headers.get("Sec-WebSocket-Protocol"))
            if V1_PROTOCOL not in asked:
                # before authentication and upgrade: nothing reaches a kernel
                self.set_status(400)
                self.finish(f"kernel websockets must use the {V1_PROTOCOL} subprotocol")
                return None
            return await super().get(*args, **kwargs)

        async def open(self, *args, **kwargs):
            if self.selected_subprotocol != V1_PROTOCOL:  # e.g. a server configured for legacy only
                self.close(1002, f"kernel websockets must use the {V1_PROTOCOL} subprotocol")
                return
            return await super().open(*args, **kwargs)

        def write_message(self, message, binary: bool = False):
            if isinstance(message, (bytes, bytearray, memoryview)):
                header = header_of_binary_message(bytes(message))
            elif isinstance(message, dict):
                header = message.get("header")
            else:
                header = None
            if isinstance(header, dict) and header.get("msg_type") == "execute_input":
                return None  # as Voilà: viewers never see the code being run
            return super(VoilaKernelWebsocketHandler, self).write_message(message, binary)

    return GuardedKernelWebsocketHandler


def read_token() -> str:
    """Read the token from ``$WORKBENCH_VOILA_TOKEN_FILE``, then remove the file and the variable."""
    path = os.environ.pop(TOKEN_FILE_ENV, None)
    if not path:
        raise SystemExit(f"widgets.voila_server: no token file (${TOKEN_FILE_ENV}); start it with `workbench serve`")
    try:
        with open(path, encoding="utf-8") as f:
            token = f.read()
    finally:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
    if len(token) < MIN_TOKEN_LENGTH:
        raise SystemExit(f"widgets.voila_server: the token must have at least {MIN_TOKEN_LENGTH} characters")
    return token


def main(argv=None) -> None:
    """Start Voilà with ``argv`` (its command-line arguments), the token from the file, the guard."""
    token = read_token()
    from traitlets.config import Config
    from voila import app as voila_app

    voila_app.VoilaKernelWebsocketHandler = guarded_handler_class()  # init_handlers reads this name
    # Voilà finds templates in the Jupyter data folders: ours first
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (TEMPLATE_ROOT, os.environ.get("JUPYTER_PATH")) if p)
    config = Config()
    config.Voila.token = token
    config.VoilaConfiguration.template = TEMPLATE

    class WorkbenchVoila(voila_app.Voila):
        def setup_template_dirs(self):
            super().setup_template_dirs()  # sets static_paths from the template
            self.static_paths.append(fontawesome_root())

    WorkbenchVoila.launch_instance(argv=sys.argv[1:] if argv is None else argv, config=config)


if __name__ == "__main__":
    main()
