"""A small fake Kubernetes API server that the real kubectl 1.32 and helm 3.17 work against.

Why our own and not PyPI ``kmock``: used raw, real kubectl fails against kmock in a dozen ways (namespaces
path 500, core discovery groupVersion "/v1", LIST without kind, selectors ignored, server-side apply of
a missing object 404, YAML apply bodies ignored, no OpenAPI, protobuf bodies undecodable, CRDs never
served; see /work/shared/design/FIELD-NOTES.md). Patching all that costs more than this stdlib server
(``http.server.ThreadingHTTPServer`` + ``ssl``), whose every behaviour is ours to read and fix.

HTTPS on 127.0.0.1 with a generated CA (``pki.py``); client certificates are accepted, not required,
and nothing is authorized. Discovery is the legacy (non-aggregated) format, OpenAPI v3 is a stub that
tells clients the server validates fields (``resources.py``), ``/openapi/v2`` is 404 (kubectl copes).
Objects, selectors, patches and server-side apply live in ``store.py``/``patches.py``/``ssa.py``;
protobuf request bodies (helm's release Secrets) are decoded by ``protobuf.py``; admission webhooks in
``admission.py``; simulated controllers in ``controllers.py``; the ``/_world/`` admin API in ``admin.py``.
Responses are always JSON.

Run: ``python3 -m tests.world.apiserver --dir DIR [--port N] [--san IP ...] [--service-cidr CIDR]``. When ready it writes
``DIR/apiserver.json`` (url, port, pid, ca_file, client_cert, client_key, kubeconfig) and an admin
``DIR/kubeconfig``; SIGTERM stops it cleanly. State persists in ``DIR/apiserver-state.json``.
In-process: ``ApiServer(dir).start()`` ... ``.stop()``.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import pathlib
import re
import signal
import socket
import ssl
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import yaml

from . import admin, admission, errors, resources, tables
from .controllers import Controllers
from .defaults import DEFAULT_SERVICE_CIDR
from .patches import merge_patch
from .pki import ensure_pki, write_atomic
from .protobuf import ProtobufError, decode_object
from .selectors import match_fields, match_labels, parse_fields, parse_labels
from .store import Store

DEFAULT_KUBE_VERSION = "v1.32.3"
PATCH_TYPES = {"application/apply-patch+yaml": "apply", "application/merge-patch+json": "merge",
               "application/strategic-merge-patch+json": "strategic", "application/json-patch+json": "json"}
MAX_WATCH_SECONDS = 1800


def _write_atomic(path: pathlib.Path, text: str, mode: int = 0o644) -> None:
    """Write a text file atomically."""
    write_atomic(path, text.encode(), mode)


def kubeconfig_text(url: str, ca_file: pathlib.Path, cert: pathlib.Path, key: pathlib.Path,
                    name: str = "world", tls_server_name: str | None = None) -> str:
    """An admin kubeconfig (embedded data) for the fake cluster."""
    b64 = lambda p: base64.b64encode(pathlib.Path(p).read_bytes()).decode()
    cluster = {"server": url, "certificate-authority-data": b64(ca_file)}
    if tls_server_name:
        cluster["tls-server-name"] = tls_server_name
    doc = {"apiVersion": "v1", "kind": "Config", "preferences": {},
           "clusters": [{"name": name, "cluster": cluster}],
           "users": [{"name": f"admin@{name}", "user": {"client-certificate-data": b64(cert),
                                                        "client-key-data": b64(key)}}],
           "contexts": [{"name": f"admin@{name}", "context": {"cluster": name, "user": f"admin@{name}",
                                                              "namespace": "default"}}],
           "current-context": f"admin@{name}"}
    return yaml.safe_dump(doc, sort_keys=False)


class _Server(ThreadingHTTPServer):
    """Threaded HTTP server doing the TLS handshake in the per-connection thread."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, handler, world: ApiServer):
        """Bind and remember the world."""
        self.world = world
        super().__init__(addr, handler)

    def finish_request(self, request, client_address):
        """Wrap the accepted socket in TLS, then serve it."""
        try:
            request.settimeout(30)
            conn = self.world.ssl_ctx.wrap_socket(request, server_side=True)
            conn.settimeout(None)
        except (ssl.SSLError, OSError):
            request.close()
            return
        self.world.track(conn, True)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        except (ConnectionError, ssl.SSLError, OSError):
            pass
        finally:
            self.world.track(conn, False)
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        """Connection-level errors are the client's business: stay quiet."""


@dataclass(frozen=True)
class Call:
    """One resource request, parsed."""

    res: resources.Resource
    namespace: str
    name: str
    sub: str
    q: dict
    raw: bytes
    ctype: str
    dry_run: bool


class Handler(BaseHTTPRequestHandler):
    """One HTTP/1.1 connection to the fake API server."""

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes: with Nagle's algorithm on, the client's delayed
    # ACK adds ~40 ms to every response.
    disable_nagle_algorithm = True
    server_version = "world-apiserver"
    timeout = 300

    def log_message(self, fmt, *args):
        """Quiet unless WORLD_APISERVER_DEBUG is set."""
        if os.environ.get("WORLD_APISERVER_DEBUG"):
            sys.stderr.write("apiserver: " + (fmt % args) + "\n")

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = lambda self: self.dispatch()

    @property
    def world(self) -> ApiServer:
        """The ApiServer this connection belongs to."""
        return self.server.world

    # ------------------------------------------------------------------ plumbing

    def read_body(self) -> bytes:
        """The request body (Content-Length or chunked)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_json(self, code: int, body, extra_headers: dict | None = None) -> None:
        """Send a JSON response."""
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Audit-Id", self.headers.get("Audit-Id", "world"))
        for k, v in (extra_headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.status_sent = code

    def send_text(self, code: int, text: str) -> None:
        """Send a text/plain response."""
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        self.status_sent = code

    def decode(self, raw: bytes, ctype: str):
        """Parse a request body according to its Content-Type."""
        base = ctype.split(";")[0].strip().lower()
        if not raw:
            return None
        if base == "application/vnd.kubernetes.protobuf":
            try:
                return decode_object(raw)
            except ProtobufError as exc:
                raise errors.ApiError(415, "UnsupportedMediaType", str(exc), {}) from exc
        try:
            return json.loads(raw)
        except ValueError:
            if base in ("application/yaml", "application/apply-patch+yaml", "text/yaml"):
                try:
                    return yaml.safe_load(raw)
                except yaml.YAMLError as exc:
                    raise errors.bad_request(f"error decoding YAML: {exc}") from exc
            raise errors.bad_request("the request body is not valid JSON") from None

    # ------------------------------------------------------------------ dispatch

    def dispatch(self) -> None:
        """Route one request and answer it."""
        url = urlsplit(self.path)
        path, q = url.path, {k: v[-1] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        self.status_sent = 0
        ctype = self.headers.get("Content-Type", "")
        try:
            raw = self.read_body()
            if path.startswith("/_world/"):
                code, body = admin.handle(self.world, self.command, path, q, self.decode(raw, ctype))
                self.send_json(code, body)
                return
            self.world.apply_faults(self.command, path)
            self.route(path, q, raw, ctype)
        except errors.ApiError as exc:
            self.send_json(exc.code, exc.status())
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            self.close_connection = True
        except Exception as exc:  # report server bugs as the real server would, and loudly on stderr
            traceback.print_exc(file=sys.stderr)
            self.send_json(500, errors.internal(f"{type(exc).__name__}: {exc}").status())
        finally:
            if not path.startswith("/_world/"):
                self.world.log_request(self.command, path, url.query, ctype, self.headers.get("Accept", ""),
                                       self.headers.get("User-Agent", ""), self.status_sent)

    def route(self, path: str, q: dict, raw: bytes, ctype: str) -> None:
        """Non-resource paths, discovery, OpenAPI, then resources."""
        world, reg = self.world, self.world.store.registry
        parts = [p for p in path.split("/") if p]
        if path in ("/healthz", "/livez", "/readyz") or re.fullmatch(r"/(healthz|livez|readyz)/.+", path):
            name = parts[0]
            return self.send_text(200, f"[+]ping ok\n{name} check passed\n" if "verbose" in q else "ok")
        if path == "/version":
            return self.send_json(200, world.version_doc())
        if path == "/api":
            return self.send_json(200, resources.api_versions())
        if path == "/apis":
            return self.send_json(200, resources.api_group_list(reg))
        if path == "/openapi/v3":
            return self.send_json(200, resources.openapi_root(reg))
        if path.startswith("/openapi/v3/"):
            key = path[len("/openapi/v3/"):].split("/")
            group, version = ("", key[1]) if key[0] == "api" and len(key) == 2 else \
                (key[1], key[2]) if key[0] == "apis" and len(key) == 3 else (None, None)
            doc = resources.openapi_gv_doc(reg, group, version) if version else None
            if doc is None:
                raise errors.path_not_found()
            immutable = q.get("hash") and q["hash"] == resources.openapi_hash(doc)
            return self.send_json(200, doc, {"Cache-Control": "public, immutable, max-age=31536000"}
                                  if immutable else {"Cache-Control": "no-cache, private"})
        if parts[:1] == ["api"] and len(parts) >= 2:
            return self.resource_request("", parts[1], parts[2:], q, raw, ctype)
        if parts[:1] == ["apis"] and len(parts) == 2:
            doc = resources.api_group(reg, parts[1])
            if doc is None:
                raise errors.path_not_found()
            return self.send_json(200, doc)
        if parts[:1] == ["apis"] and len(parts) >= 3:
            return self.resource_request(parts[1], parts[2], parts[3:], q, raw, ctype)
        raise errors.path_not_found()

    def resource_request(self, group: str, version: str, parts: list[str], q: dict, raw: bytes, ctype: str):
        """/api/v1/... and /apis/g/v/...: discovery or a resource verb."""
        reg = self.world.store.registry
        if not parts:
            doc = resources.api_resource_list(reg, group, version)
            if doc is None:
                raise errors.path_not_found()
            return self.send_json(200, doc)
        watch = q.get("watch") in ("1", "true")
        if parts[0] == "watch":
            watch, parts = True, parts[1:]
        namespace = ""
        if len(parts) >= 3 and parts[0] == "namespaces" and not (
                group == "" and len(parts) == 3 and parts[2] in ("status", "finalize")):
            namespace, parts = parts[1], parts[2:]
        if not parts or len(parts) > 3:
            raise errors.path_not_found()
        res = reg.lookup(group, version, parts[0])
        if res is None or (namespace and not res.namespaced):
            raise errors.path_not_found()
        name = parts[1] if len(parts) > 1 else ""
        sub = parts[2] if len(parts) > 2 else ""
        if sub and sub not in res.subresources:
            raise errors.path_not_found()
        if res.namespaced and name and not namespace:
            raise errors.path_not_found()
        return self.verb(res, namespace, name, sub, watch, q, raw, ctype)

    # ------------------------------------------------------------------ verbs

    def manager(self, q: dict) -> str:
        """fieldManager, defaulting to the User-Agent's product (as the real server does)."""
        return q.get("fieldManager") or self.headers.get("User-Agent", "unknown").split("/")[0][:128]

    def wants_table(self) -> bool:
        """Whether the client asked for a meta.k8s.io Table."""
        return "as=Table" in self.headers.get("Accept", "")

    def verb(self, res, namespace, name, sub, watch, q, raw, ctype):
        """Execute one resource verb."""
        call = Call(res, namespace, name, sub, q, raw, ctype, q.get("dryRun") == "All")
        if self.command == "GET" and watch:
            fields = q.get("fieldSelector", "")
            if name:
                fields = ",".join(f for f in (fields, f"metadata.name={name}") if f)
            return self.stream_watch(res, namespace, q.get("labelSelector", ""), fields, q)
        action = {"GET": self.do_get, "POST": self.do_post, "PUT": self.do_put, "PATCH": self.do_patch,
                  "DELETE": self.do_delete}.get(self.command)
        if action is None:
            raise errors.method_not_supported(res.group, res.plural, self.command.lower())
        if self.command != "GET":
            admission.review(self.world.controllers, self.command, res, namespace, name, sub,
                             self.decode(raw, ctype) if raw else None)
        code, body = action(call)
        self.send_json(code, body)

    def table_or(self, call: Call, objects: list[dict], rv: str, body: dict) -> dict:
        """A Table of objects when the client asked for one, else body."""
        if not self.wants_table():
            return body
        return tables.to_table(call.res, objects, rv, call.q.get("includeObject", "Metadata"))

    def do_get(self, call: Call) -> tuple[int, dict]:
        """GET: list, get, or a scale subresource."""
        store, q = self.world.store, call.q
        if not call.name:
            body = store.list(call.res, call.namespace, q.get("labelSelector", ""), q.get("fieldSelector", ""))
            return 200, self.table_or(call, body["items"], body["metadata"]["resourceVersion"], body)
        obj = store.get(call.res, call.namespace, call.name)
        if call.sub == "scale":
            return 200, self.scale_of(call.res, obj)
        return 200, self.table_or(call, [obj], obj["metadata"].get("resourceVersion", ""), obj)

    def body_object(self, call: Call) -> dict:
        """The request body as an object, or 400."""
        body = self.decode(call.raw, call.ctype)
        if not isinstance(body, dict):
            raise errors.bad_request("the request body must be an object")
        return body

    def do_post(self, call: Call) -> tuple[int, dict]:
        """POST: create."""
        if call.name:
            raise errors.method_not_supported(call.res.group, call.res.plural, "create")
        body = self.body_object(call)
        self.check_kind(call.res, body)
        return 201, self.world.store.create(call.res, call.namespace, body, manager=self.manager(call.q),
                                            dry_run=call.dry_run)

    def do_put(self, call: Call) -> tuple[int, dict]:
        """PUT: replace (the object, its status, or its scale)."""
        body = self.body_object(call)
        if not call.name:
            raise errors.method_not_supported(call.res.group, call.res.plural, "update")
        if call.sub == "scale":
            return 200, self.update_scale(call.res, call.namespace, call.name, body, call.q)
        self.check_kind(call.res, body)
        sub = "" if call.sub == "finalize" else call.sub
        return 200, self.world.store.replace(call.res, call.namespace, call.name, body, manager=self.manager(call.q),
                                             subresource=sub, dry_run=call.dry_run)

    def do_patch(self, call: Call) -> tuple[int, dict]:
        """PATCH: apply, merge, strategic or JSON patch; 201 when an apply created the object."""
        res, q = call.res, call.q
        if not call.name:
            raise errors.method_not_supported(res.group, res.plural, "patch")
        ptype = PATCH_TYPES.get(call.ctype.split(";")[0].strip().lower())
        if ptype is None:
            raise errors.unsupported_media_type(call.ctype, list(PATCH_TYPES))
        body = self.decode(call.raw, call.ctype)
        if call.sub == "scale":
            scale = self.scale_of(res, self.world.store.get(res, call.namespace, call.name))
            return 200, self.update_scale(res, call.namespace, call.name, merge_patch(scale, body), q)
        if ptype == "apply" and isinstance(body, dict):
            self.check_kind(res, body)
        obj, created = self.world.store.patch(res, call.namespace, call.name, ptype, body,
                                              manager=self.manager(q), force=q.get("force") in ("true", "1"),
                                              subresource=call.sub, dry_run=call.dry_run)
        return (201 if created else 200), obj

    def do_delete(self, call: Call) -> tuple[int, dict]:
        """DELETE: one object (propagationPolicy from query or DeleteOptions body) or a collection."""
        store, q = self.world.store, call.q
        opts = self.decode(call.raw, call.ctype) or {}
        propagation = q.get("propagationPolicy") or (opts.get("propagationPolicy") if isinstance(opts, dict)
                                                     else None) or "Background"
        if not call.name:
            return 200, store.delete_collection(call.res, call.namespace, q.get("labelSelector", ""),
                                                q.get("fieldSelector", ""))
        return 200, store.delete(call.res, call.namespace, call.name, propagation=propagation, dry_run=call.dry_run)

    def check_kind(self, res, body: dict) -> None:
        """Reject a body whose apiVersion/kind does not belong at this path (400, like the real decoder)."""
        kind, api_version = body.get("kind"), body.get("apiVersion")
        if kind and kind != res.kind:
            raise errors.bad_request(f"the API version in the data ({api_version}) does not match the expected API "
                                     f"version ({res.api_version})" if api_version and api_version != res.api_version
                                     else f"{kind} in version \"{res.version}\" cannot be handled as a {res.kind}: "
                                          f"the kind in the data ({kind}) does not match the expected kind ({res.kind})")

    def scale_of(self, res, obj: dict) -> dict:
        """The autoscaling/v1 Scale of a workload."""
        meta = obj["metadata"]
        sel = ((obj.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1",
                "metadata": {k: meta.get(k) for k in ("name", "namespace", "uid", "resourceVersion",
                                                      "creationTimestamp")},
                "spec": {"replicas": (obj.get("spec") or {}).get("replicas", 1)},
                "status": {"replicas": (obj.get("status") or {}).get("replicas", 0),
                           "selector": ",".join(f"{k}={v}" for k, v in sel.items())}}

    def update_scale(self, res, namespace, name, scale: dict, q: dict) -> dict:
        """Set spec.replicas from a Scale."""
        replicas = (scale.get("spec") or {}).get("replicas")
        obj, _ = self.world.store.patch(res, namespace, name, "merge", {"spec": {"replicas": replicas}},
                                        manager=self.manager(q))
        return self.scale_of(res, obj)

    # ------------------------------------------------------------------ watch

    def write_chunk(self, data: bytes) -> None:
        """One HTTP chunk."""
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()

    def watch_event(self, res, etype: str, obj: dict, q: dict) -> bytes:
        """A watch event line (object wrapped in a Table when asked)."""
        if self.wants_table():
            obj = tables.to_table(res, [obj], obj["metadata"].get("resourceVersion", ""),
                                  q.get("includeObject", "Metadata"))
        return json.dumps({"type": etype, "object": obj}, separators=(",", ":")).encode() + b"\n"

    def write_line(self, event: dict) -> None:
        """One watch event as a JSON line in its own chunk."""
        self.write_chunk(json.dumps(event, separators=(",", ":")).encode() + b"\n")

    def start_stream(self) -> None:
        """Headers of a chunked JSON stream."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.send_header("Cache-Control", "no-cache, private")
        self.end_headers()
        self.status_sent = 200

    def end_stream(self) -> None:
        """The terminating chunk."""
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def watch_start(self, res, namespace: str, selected, q: dict):
        """(initial objects, starting resourceVersion, expiry error or None) for a watch request."""
        store, rv_param = self.world.store, q.get("resourceVersion", "")
        with store.lock:
            if rv_param in ("", "0") or q.get("sendInitialEvents") == "true":
                return [o for o in store.matching(res, namespace) if selected(o)], store.rv, None
            try:
                last = int(rv_param)
            except ValueError:
                raise errors.bad_request(f"invalid resource version: {rv_param}") from None
            try:
                store.events_after(last)
            except errors.ApiError as exc:
                return [], last, exc
            return [], last, None

    def stream_watch(self, res, namespace: str, labels: str, fields: str, q: dict) -> None:
        """Stream watch events as JSON lines in a chunked response until timeout or shutdown."""
        store = self.world.store
        reqs, terms = parse_labels(labels), parse_fields(fields, store.registry.field_labels(res))

        def selected(obj):
            """Whether an object is in this watch's namespace and selectors."""
            ns = ((obj or {}).get("metadata") or {}).get("namespace", "")
            return obj is not None and (not namespace or not res.namespaced or ns == namespace) \
                and match_labels(reqs, obj) and match_fields(terms, obj)

        initial, last, expired = self.watch_start(res, namespace, selected, q)
        self.start_stream()
        if expired is not None:
            self.write_line({"type": "ERROR", "object": expired.status()})
            return self.end_stream()
        for obj in initial:
            self.write_chunk(self.watch_event(res, "ADDED", store.view(res, obj), q))
        if q.get("sendInitialEvents") == "true" and q.get("allowWatchBookmarks") == "true":
            self.write_line({"type": "BOOKMARK", "object": {
                "kind": res.kind, "apiVersion": res.api_version, "metadata": {
                    "resourceVersion": str(last), "annotations": {"k8s.io/initial-events-end": "true"}}}})
        deadline = time.monotonic() + min(float(q.get("timeoutSeconds") or MAX_WATCH_SECONDS), MAX_WATCH_SECONDS)
        self.follow(res, last, selected, deadline, q)
        self.end_stream()

    def follow(self, res, last: int, selected, deadline: float, q: dict) -> None:
        """Send the events after resourceVersion last until the deadline or shutdown."""
        store = self.world.store
        while not self.world.stopping.is_set():
            with store.cond:
                try:
                    events = store.events_after(last)
                except errors.ApiError as exc:
                    self.write_line({"type": "ERROR", "object": exc.status()})
                    return
                if not events:
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return
                    store.cond.wait(min(remaining, 0.5))
                    continue
            for ev in events:
                last = ev.rv
                etype = self.translate(ev, selected) if (ev.group, ev.plural) == (res.group, res.plural) else None
                if etype:
                    self.write_chunk(self.watch_event(res, etype, store.view(res, ev.obj), q))

    @staticmethod
    def translate(ev, selected) -> str | None:
        """The event type a filtered watcher sees (objects entering/leaving the selection)."""
        now_in = selected(ev.obj)
        if ev.type != "MODIFIED":
            return ev.type if now_in else None
        was_in = selected(ev.old)
        if now_in and was_in:
            return "MODIFIED"
        return "ADDED" if now_in else "DELETED" if was_in else None


class ApiServer:
    """The fake API server, in-process: start()/stop(), or use as a context manager."""

    def __init__(self, directory: pathlib.Path | str, port: int = 0, sans: tuple[str, ...] | list[str] = (),
                 kube_version: str = DEFAULT_KUBE_VERSION, host: str = "127.0.0.1",
                 service_cidr: str = DEFAULT_SERVICE_CIDR):
        """Configure (nothing starts yet)."""
        self.dir = pathlib.Path(directory)
        self.service_cidr = service_cidr
        self.requested_port, self.sans, self.host = port, list(sans), host
        self.kube_version = kube_version
        self.stopping = threading.Event()
        self.log_lock = threading.Lock()
        self.requests: list[dict] = []
        self.request_count = 0
        self.faults: list[dict] = []
        self.conns: set = set()
        self.httpd: _Server | None = None
        self.thread: threading.Thread | None = None
        self.started_at = 0.0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> ApiServer:
        """Generate/reuse certificates, load state, bind, serve, and write apiserver.json."""
        self.dir.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        self.pki = ensure_pki(self.dir, self.sans)
        self.store = Store(self.dir / "apiserver-state.json", service_cidr=self.service_cidr)
        self.controllers = Controllers(self.store)
        if not self.store.loaded:
            self.store.seed_defaults()
        saved = self.store.extra.get("kubeVersion")
        if saved:
            self.kube_version = saved
        self.ssl_ctx = self._ssl_context()
        self.httpd = _Server((self.host, self.requested_port), Handler, self)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                       name=f"apiserver:{self.port}", daemon=True)
        self.thread.start()
        self._write_info()
        self.started_at = time.monotonic() - t0
        return self

    def _ssl_context(self) -> ssl.SSLContext:
        """Server TLS context: our serving cert; client certs from our CA accepted but optional."""
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.pki.server_cert, self.pki.server_key)
        ctx.load_verify_locations(self.pki.ca_file)
        ctx.verify_mode = ssl.CERT_OPTIONAL
        ctx.set_alpn_protocols(["http/1.1"])
        return ctx

    def _write_info(self) -> None:
        """apiserver.json and the admin kubeconfig."""
        self.kubeconfig = self.dir / "kubeconfig"
        _write_atomic(self.kubeconfig, kubeconfig_text(self.url, self.pki.ca_file, self.pki.client_cert,
                                                       self.pki.client_key), 0o600)
        _write_atomic(self.dir / "apiserver.json", json.dumps(self.info, indent=2) + "\n")

    @property
    def url(self) -> str:
        """https://127.0.0.1:PORT."""
        return f"https://{self.host}:{self.port}"

    @property
    def info(self) -> dict:
        """What apiserver.json holds."""
        return {"url": self.url, "port": self.port, "pid": os.getpid(), "ca_file": str(self.pki.ca_file),
                "client_cert": str(self.pki.client_cert), "client_key": str(self.pki.client_key),
                "kubeconfig": str(self.dir / "kubeconfig"), "state_file": str(self.store.state_file)}

    def stop(self) -> None:
        """Stop serving, end watches, close connections and persist state."""
        if self.httpd is None:
            return
        self.stopping.set()
        with self.store.cond:
            self.store.cond.notify_all()
        self.controllers.stop()
        self.httpd.shutdown()
        self.httpd.server_close()
        for conn in list(self.conns):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        with self.store.lock:
            self.store.save()
        self.httpd = None
        try:
            (self.dir / "apiserver.json").unlink()
        except FileNotFoundError:
            pass

    def __enter__(self) -> ApiServer:
        """Start on entering a with block."""
        return self.start()

    def __exit__(self, *exc) -> None:
        """Stop on leaving it."""
        self.stop()

    # ------------------------------------------------------------------ helpers used by the handler and admin

    def track(self, conn, add: bool) -> None:
        """Remember open connections so stop() can close them."""
        with self.log_lock:
            (self.conns.add if add else self.conns.discard)(conn)

    def log_request(self, method, path, query, ctype, accept, agent, status) -> None:
        """Append to the request log."""
        with self.log_lock:
            self.request_count += 1
            self.requests.append({"method": method, "path": path, "query": query, "content_type": ctype,
                                  "accept": accept, "user_agent": agent, "status": status})
            del self.requests[:-5000]

    def reset_requests(self) -> None:
        """Clear the request log and count."""
        with self.log_lock:
            self.requests.clear()
            self.request_count = 0

    def apply_faults(self, method: str, path: str) -> None:
        """Delay and/or fail a request when an injected fault matches it."""
        with self.log_lock:
            hit = next((f for f in self.faults if (not f.get("method") or f["method"] == method)
                        and re.search(f["path"], path)), None)
            if hit and hit.get("times") is not None:
                hit["times"] -= 1
                if hit["times"] <= 0:
                    self.faults.remove(hit)
        if hit and hit.get("delay"):
            time.sleep(float(hit["delay"]))
        if hit and hit.get("code"):
            raise errors.from_code(int(hit["code"]), hit.get("message") or "injected fault")

    def set_version(self, git_version: str) -> None:
        """Change the Kubernetes version the server reports (persisted)."""
        if not re.fullmatch(r"v\d+\.\d+\.\d+.*", git_version or ""):
            raise errors.bad_request(f"gitVersion must look like v1.32.3, got {git_version!r}")
        self.kube_version = git_version
        self.store.extra["kubeVersion"] = git_version
        self.store.mark_dirty()

    def version_doc(self) -> dict:
        """The /version document."""
        major, minor = self.kube_version.lstrip("v").split(".")[:2]
        return {"major": major, "minor": minor, "gitVersion": self.kube_version,
                "gitCommit": "0000000000000000000000000000000000000000", "gitTreeState": "clean",
                "buildDate": "2025-03-11T19:52:21Z", "goVersion": "go1.23.6", "compiler": "gc",
                "platform": "linux/amd64"}


def main(argv: list[str] | None = None) -> int:
    """Command line entry point: serve until SIGTERM/SIGINT."""
    ap = argparse.ArgumentParser(prog="python3 -m tests.world.apiserver", description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True, help="state directory (pki/, apiserver.json, apiserver-state.json)")
    ap.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = random)")
    ap.add_argument("--san", action="append", default=[], help="extra serving-certificate SAN (repeatable)")
    ap.add_argument("--kube-version", default=DEFAULT_KUBE_VERSION, help="version reported by /version")
    ap.add_argument("--service-cidr", default=DEFAULT_SERVICE_CIDR,
                    help="--service-cluster-ip-range: where Services get their cluster IPs")
    ap.add_argument("--controller-delay", action="append", default=[], metavar="KIND=SECONDS",
                    help="delay a kind's simulated controller (repeatable)")
    ap.add_argument("--disable-controller", action="append", default=[], metavar="KIND",
                    help="switch a kind's simulated controller off (repeatable)")
    args = ap.parse_args(argv)
    server = ApiServer(args.dir, args.port, args.san, args.kube_version, service_cidr=args.service_cidr)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    server.start()
    for item in args.controller_delay:
        kind, _, seconds = item.partition("=")
        server.controllers.configure(kind, delay=float(seconds))
    for kind in args.disable_controller:
        server.controllers.configure(kind, enabled=False)
    print(json.dumps(server.info), flush=True)
    while not done.wait(0.5):
        pass
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
