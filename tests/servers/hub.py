"""A loopback Hub-compatible HTTP server for tests: the real ``huggingface_hub`` and ``datasets``
clients create repos, push (regular and LFS files), tag, and ``load_dataset(..., revision=tag)``.

Answers what the real clients call. Repos are stored as immutable commits over content-addressed
blobs (see :mod:`servers.hub_store`), so old tags keep returning old content.

Usage (see ``tests/conftest.py``, which sets ``HF_ENDPOINT`` before huggingface_hub is imported)::

    server = HubServer(port=0).start()
    ...  # HF_ENDPOINT=server.endpoint, token=server.token
    server.stop()
"""

from __future__ import annotations

import base64
import json
import re
import threading
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from servers.hub_store import Commit, HubState, Repo, StaleParent, wants_lfs

__all__ = ["HubServer"]

_SEG = r"([^/]+)"
_TYPE = r"(models|datasets|spaces)"
_REPO = rf"{_SEG}/{_SEG}"
_PREFIX = r"(?:(datasets|spaces)/)?"


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


class HubError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code = status, code


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    # -- plumbing ------------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet server
        pass

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        url = urlsplit(self.path)
        self.query = parse_qs(url.query)
        self.server.hub.requests.append((method, url.path))
        self._body: bytes | None = None
        try:
            for pattern, methods, handler in _ROUTES:
                match = re.fullmatch(pattern, url.path)
                if match and method in methods:
                    args = [unquote(g) if g is not None else None for g in match.groups()]
                    handler(self, method, *args)
                    return
            raise HubError(404, f"no route for {method} {url.path}")
        except HubError as exc:
            self._error(exc.status, str(exc), exc.code)

    def body(self) -> bytes:
        if self._body is None:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                self._body = self._read_chunked()
            else:
                self._body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        return self._body

    def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline()

    def json_body(self) -> Any:
        raw = self.body()
        return json.loads(raw) if raw else {}

    def send(
        self,
        status: int,
        payload: Any = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> None:
        data = raw if raw is not None else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header(
            "Content-Type", "application/json" if raw is None else "application/octet-stream"
        )
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _error(self, status: int, message: str, code: str | None) -> None:
        self.body()  # drain the request so the connection stays usable
        headers = {"X-Error-Message": message}
        if code:
            headers["X-Error-Code"] = code
        self.send(status, {"error": message}, headers)

    # -- auth and lookup -----------------------------------------------------------------------
    def authorized(self) -> bool:
        header = self.headers.get("Authorization", "")
        return header == f"Bearer {self.server.hub.token}"

    def require_write(self) -> None:
        if not self.authorized():
            raise HubError(401, "Invalid credentials in Authorization header", "Unauthorized")

    def repo(self, repo_type: str, ns: str, name: str) -> Repo:
        repo = self.server.hub.state.get(repo_type, f"{ns}/{name}")
        if repo is None or (repo.private and not self.authorized()):
            raise HubError(404, f"Repository {ns}/{name} not found", "RepoNotFound")
        return repo

    def commit_at(self, repo: Repo, revision: str | None) -> Commit:
        commit = repo.resolve(revision or "main")
        if commit is None:
            raise HubError(404, f"Invalid rev id: {revision}", "RevisionNotFound")
        return commit


# -- handlers ----------------------------------------------------------------------------------
def _harnesses(h: _Handler, method: str) -> None:
    h.send(200, {"standardEnvVars": [], "harnesses": {}})


def _whoami(h: _Handler, method: str) -> None:
    h.require_write()
    h.send(
        200,
        {
            "type": "user",
            "name": h.server.hub.user,
            "orgs": [],
            "auth": {
                "type": "access_token",
                "accessToken": {"displayName": "test", "role": "write"},
            },
        },
    )


def _validate_yaml(h: _Handler, method: str) -> None:
    h.body()
    h.send(200, {"errors": [], "warnings": []})


def _create_repo(h: _Handler, method: str) -> None:
    h.require_write()
    data = h.json_body()
    repo_type = (data.get("type") or "model") + "s"
    ns = data.get("organization") or h.server.hub.user
    repo_id = f"{ns}/{data['name']}"
    private = bool(data.get("private")) or data.get("visibility") == "private"
    created = h.server.hub.state.create_repo(repo_type, repo_id, private)
    prefix = "" if repo_type == "models" else f"{repo_type}/"
    payload = {"url": f"{h.server.hub.endpoint}/{prefix}{repo_id}", "name": repo_id}
    if created is None:  # the client's exist_ok path reads the url from the 409 body
        h.send(
            409,
            {**payload, "error": "You already created this repo"},
            {"X-Error-Message": "You already created this repo"},
        )
        return
    h.send(200, payload)


def _delete_repo(h: _Handler, method: str) -> None:
    h.require_write()
    data = h.json_body()
    key = h.server.hub.state.key(
        (data.get("type") or "model") + "s", f"{data.get('organization')}/{data['name']}"
    )
    if h.server.hub.state.repos.pop(key, None) is None:
        raise HubError(404, "Repository not found", "RepoNotFound")
    h.send(200, {})


def _repo_info(h: _Handler, method: str, rtype: str, ns: str, name: str, rev: str | None) -> None:
    repo = h.repo(rtype, ns, name)
    commit = h.commit_at(repo, rev)
    siblings = [
        {"rfilename": p, "size": e.size, "blobId": e.git_oid}
        for p, e in sorted(commit.files.items())
    ]
    h.send(
        200,
        {
            "id": repo.repo_id,
            "_id": repo.repo_id,
            "author": ns,
            "sha": commit.sha,
            "private": repo.private,
            "disabled": False,
            "gated": False,
            "tags": [],
            "lastModified": _iso(commit.date),
            "createdAt": _iso(repo.history(commit)[-1].date),
            "siblings": siblings,
            "downloads": 0,
            "likes": 0,
        },
    )


def _preupload(h: _Handler, method: str, rtype: str, ns: str, name: str, rev: str) -> None:
    repo = h.repo(rtype, ns, name)
    commit = repo.resolve(rev)
    files = []
    for item in h.json_body().get("files", []):
        lfs = wants_lfs(item["path"], int(item["size"]))
        old = commit.files.get(item["path"]) if commit else None
        oid = (old.sha256 if lfs else old.git_oid) if old else None
        files.append(
            {
                "path": item["path"],
                "uploadMode": "lfs" if lfs else "regular",
                "shouldIgnore": False,
                "oid": oid,
            }
        )
    h.send(200, {"files": files, "commitOid": commit.sha if commit else None})


def _lfs_batch(h: _Handler, method: str, prefix: str | None, ns: str, name: str) -> None:
    h.require_write()
    h.repo(prefix or "models", ns, name)
    objects = []
    for obj in h.json_body().get("objects", []):
        entry: dict[str, Any] = {"oid": obj["oid"], "size": obj["size"]}
        if obj["oid"] not in h.server.hub.state.blobs:
            href = f"{h.server.hub.endpoint}/lfs-upload/{obj['oid']}"
            entry["actions"] = {"upload": {"href": href, "header": {}}}
        objects.append(entry)
    h.send(200, {"transfer": "basic", "objects": objects, "hash_algo": "sha256"})


def _lfs_put(h: _Handler, method: str, oid: str) -> None:
    data = h.body()
    if h.server.hub.state.store_blob(data) != oid:
        raise HubError(400, f"uploaded content does not match sha256 {oid}")
    h.send(200, {})


def _commit(h: _Handler, method: str, rtype: str, ns: str, name: str, rev: str) -> None:
    h.require_write()
    repo = h.repo(rtype, ns, name)
    state = h.server.hub.state
    header: dict[str, Any] = {}
    changes: dict[str, Any] = {}
    for line in h.body().splitlines():
        if not line.strip():
            continue
        item = json.loads(line)
        key, value = item["key"], item["value"]
        if key == "header":
            header = value
        elif key == "file":
            changes[value["path"]] = state.entry_for(
                value["path"], base64.b64decode(value["content"]), lfs=False
            )
        elif key == "lfsFile":
            blob = state.blobs.get(value["oid"])
            if blob is None:
                raise HubError(400, f"LFS object {value['oid']} was never uploaded")
            changes[value["path"]] = state.entry_for(value["path"], blob, lfs=True)
        elif key in ("deletedFile", "deletedFolder"):
            changes[value["path"]] = None
    try:
        commit = state.commit(
            repo, rev, header.get("summary", ""), changes, header.get("parentCommit")
        )
    except KeyError:
        raise HubError(404, f"Invalid rev id: {rev}", "RevisionNotFound") from None
    except StaleParent:
        raise HubError(412, "A commit has happened since. Please refresh and try again.") from None
    prefix = "" if rtype == "models" else f"{rtype}/"
    url = f"{h.server.hub.endpoint}/{prefix}{repo.repo_id}/commit/{commit.sha}"
    h.send(
        200, {"success": True, "commitOid": commit.sha, "commitUrl": url, "pullRequestUrl": None}
    )


def _tag(h: _Handler, method: str, rtype: str, ns: str, name: str, rev: str) -> None:
    h.require_write()
    repo = h.repo(rtype, ns, name)
    with h.server.hub.state.lock:
        if method == "DELETE":
            if repo.tags.pop(rev, None) is None:
                raise HubError(404, f"Tag {rev} not found", "RevisionNotFound")
            h.send(200, {})
            return
        tag = h.json_body()["tag"]
        commit = h.commit_at(repo, rev)
        if tag in repo.tags:
            raise HubError(409, f"Tag {tag} already exists")
        repo.tags[tag] = commit.sha
    h.send(200, {})


def _branch(h: _Handler, method: str, rtype: str, ns: str, name: str, branch: str) -> None:
    h.require_write()
    repo = h.repo(rtype, ns, name)
    with h.server.hub.state.lock:
        if method == "DELETE":
            repo.branches.pop(branch, None)
            h.send(200, {})
            return
        start = h.json_body().get("startingPoint")
        if branch in repo.branches:
            raise HubError(409, f"Branch {branch} already exists")
        repo.branches[branch] = h.commit_at(repo, start).sha
    h.send(200, {})


def _refs(h: _Handler, method: str, rtype: str, ns: str, name: str) -> None:
    repo = h.repo(rtype, ns, name)

    def fmt(kind: str, refs: dict[str, str]) -> list[dict[str, str]]:
        return [
            {"name": n, "ref": f"refs/{kind}/{n}", "targetCommit": s}
            for n, s in sorted(refs.items())
        ]

    h.send(
        200,
        {
            "branches": fmt("heads", repo.branches),
            "tags": fmt("tags", repo.tags),
            "converts": [],
            "pullRequests": [],
        },
    )


def _entries(commit: Commit, base: str, recursive: bool) -> list[dict[str, Any]]:
    prefix = base.strip("/") + "/" if base.strip("/") else ""
    out: dict[str, dict[str, Any]] = {}
    for path, entry in sorted(commit.files.items()):
        if not path.startswith(prefix):
            continue
        parts = path[len(prefix) :].split("/")
        for depth in range(1, len(parts)):
            folder = prefix + "/".join(parts[:depth])
            out.setdefault(
                folder, {"type": "directory", "path": folder, "oid": "0" * 40, "size": 0}
            )
            if not recursive:
                break
        if recursive or len(parts) == 1:
            out[path] = entry.info(path)
    return list(out.values())


def _tree(
    h: _Handler, method: str, rtype: str, ns: str, name: str, rev: str, path: str | None
) -> None:
    commit = h.commit_at(h.repo(rtype, ns, name), rev)
    recursive = h.query.get("recursive", ["false"])[0].lower() in ("1", "true")
    base = (path or "").strip("/")
    if base and base in commit.files:
        raise HubError(404, f"{base} is a file, not a folder", "EntryNotFound")
    entries = _entries(commit, base, recursive)
    if base and not entries:
        raise HubError(404, f"{base} does not exist at {rev}", "EntryNotFound")
    h.send(200, entries)


def _paths_info(h: _Handler, method: str, rtype: str, ns: str, name: str, rev: str) -> None:
    commit = h.commit_at(h.repo(rtype, ns, name), rev)
    raw = h.body()
    if h.headers.get("Content-Type", "").startswith("application/json"):
        paths = json.loads(raw).get("paths", [])
    else:
        paths = parse_qs(raw.decode()).get("paths", [])
    out = []
    for path in paths:
        path = path.strip("/")
        if path in commit.files:
            out.append(commit.files[path].info(path))
        elif any(p.startswith(path + "/") for p in commit.files):
            out.append({"type": "directory", "path": path, "oid": "0" * 40, "size": 0})
    h.send(200, out)


def _commits(h: _Handler, method: str, rtype: str, ns: str, name: str, rev: str) -> None:
    repo = h.repo(rtype, ns, name)
    history = repo.history(h.commit_at(repo, rev))
    h.send(
        200,
        [
            {
                "id": c.sha,
                "title": c.title,
                "message": c.title,
                "authors": [{"user": h.server.hub.user}],
                "date": _iso(c.date),
            }
            for c in history
        ],
    )


def _resolve(
    h: _Handler, method: str, prefix: str | None, ns: str, name: str, rev: str, path: str
) -> None:
    repo = h.repo(prefix or "models", ns, name)
    commit = h.commit_at(repo, rev)
    entry = commit.files.get(path)
    headers = {
        "X-Repo-Commit": commit.sha,
        "ETag": f'"{entry.etag if entry else ""}"',
        "Accept-Ranges": "bytes",
    }
    if entry is None:
        h.send(
            404,
            {"error": f"Entry {path} not found at {rev}"},
            {**headers, "X-Error-Code": "EntryNotFound"},
        )
        return
    if entry.lfs:
        headers.update({"X-Linked-Etag": f'"{entry.sha256}"', "X-Linked-Size": str(entry.size)})
    data = h.server.hub.state.blobs[entry.sha256]
    status, data, extra = _apply_range(h.headers.get("Range"), data)
    h.send(status, raw=data, headers={**headers, **extra})


def _apply_range(header: str | None, data: bytes) -> tuple[int, bytes, dict[str, str]]:
    match = re.fullmatch(r"bytes=(\d*)-(\d*)", header or "")
    if not match:
        return 200, data, {}
    start_s, end_s = match.groups()
    if start_s == "":
        start, end = max(0, len(data) - int(end_s)), len(data) - 1
    else:
        start = int(start_s)
        end = min(int(end_s), len(data) - 1) if end_s else len(data) - 1
    return 206, data[start : end + 1], {"Content-Range": f"bytes {start}-{end}/{len(data)}"}


_ROUTES: list[tuple[str, tuple[str, ...], Any]] = [
    (r"/api/agent-harnesses", ("GET",), _harnesses),
    (r"/api/whoami-v2", ("GET",), _whoami),
    (r"/api/validate-yaml", ("POST",), _validate_yaml),
    (r"/api/repos/create", ("POST",), _create_repo),
    (r"/api/repos/delete", ("DELETE",), _delete_repo),
    (rf"/api/{_TYPE}/{_REPO}(?:/revision/{_SEG})?", ("GET",), _repo_info),
    (rf"/api/{_TYPE}/{_REPO}/preupload/{_SEG}", ("POST",), _preupload),
    (rf"/api/{_TYPE}/{_REPO}/commit/{_SEG}", ("POST",), _commit),
    (rf"/api/{_TYPE}/{_REPO}/tag/{_SEG}", ("POST", "DELETE"), _tag),
    (rf"/api/{_TYPE}/{_REPO}/branch/{_SEG}", ("POST", "DELETE"), _branch),
    (rf"/api/{_TYPE}/{_REPO}/refs", ("GET",), _refs),
    (rf"/api/{_TYPE}/{_REPO}/tree/{_SEG}(?:/(.+))?", ("GET",), _tree),
    (rf"/api/{_TYPE}/{_REPO}/paths-info/{_SEG}", ("POST",), _paths_info),
    (rf"/api/{_TYPE}/{_REPO}/commits/{_SEG}", ("GET",), _commits),
    (rf"/{_PREFIX}{_SEG}/([^/]+?)\.git/info/lfs/objects/batch", ("POST",), _lfs_batch),
    (r"/lfs-upload/([0-9a-f]{64})", ("PUT",), _lfs_put),
    (rf"/{_PREFIX}{_REPO}/resolve/{_SEG}/(.+)", ("GET", "HEAD"), _resolve),
]


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    hub: HubServer


class HubServer:
    """A threaded loopback Hub. ``state`` holds the repos; ``requests`` logs (method, path)."""

    def __init__(
        self, port: int = 0, token: str = "hf_testtoken0123456789abcdef", user: str = "tester"
    ) -> None:
        self.token, self.user = token, user
        self.state = HubState()
        self.requests: list[tuple[str, str]] = []
        self._httpd = _Server(("127.0.0.1", port), _Handler)
        self._httpd.hub = self
        self.port = self._httpd.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> HubServer:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, name="test-hub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    # -- inspection helpers for tests ----------------------------------------------------------
    def repo(self, repo_id: str, repo_type: str = "dataset") -> Repo:
        repo = self.state.get(repo_type + "s", repo_id)
        if repo is None:
            raise KeyError(f"no {repo_type} repo {repo_id!r} on the test hub")
        return repo

    def files(
        self, repo_id: str, revision: str = "main", repo_type: str = "dataset"
    ) -> dict[str, bytes]:
        """Path → content of every file of ``repo_id`` at ``revision``."""
        commit = self.repo(repo_id, repo_type).resolve(revision)
        if commit is None:
            raise KeyError(f"no revision {revision!r} in {repo_id!r}")
        return {p: self.state.blobs[e.sha256] for p, e in commit.files.items()}

    def tags(self, repo_id: str, repo_type: str = "dataset") -> dict[str, str]:
        return dict(self.repo(repo_id, repo_type).tags)

    def head(self, repo_id: str, branch: str = "main", repo_type: str = "dataset") -> str:
        return self.repo(repo_id, repo_type).branches[branch]

    def count(self, method: str | None = None, contains: str = "") -> int:
        """How many requests matched ``method`` and had ``contains`` in their path."""
        return sum(
            1 for m, p in list(self.requests) if (method is None or m == method) and contains in p
        )
