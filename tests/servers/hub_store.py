"""The repository model behind the loopback test Hub: content-addressed blobs and immutable commits.

A repo is a set of refs (branches and tags) pointing at commits; a commit is a full snapshot
``path → FileEntry``. Old commits are never changed, so an old tag keeps returning old content.
"""

from __future__ import annotations

import hashlib
import threading
import time
from dataclasses import dataclass, field

__all__ = ["Commit", "FileEntry", "HubState", "Repo", "StaleParent", "git_blob_oid"]

LFS_SUFFIXES = (".parquet", ".arrow", ".mp4", ".safetensors", ".bin", ".pt", ".npz", ".png", ".jpg")
LFS_MIN_SIZE = 10 * 1024 * 1024
GITATTRIBUTES = (
    b"*.parquet filter=lfs diff=lfs merge=lfs -text\n*.mp4 filter=lfs diff=lfs merge=lfs -text\n"
)


def git_blob_oid(data: bytes) -> str:
    """The git object id of a blob (sha1 over ``blob <len>\\0<data>``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def wants_lfs(path: str, size: int) -> bool:
    """The upload mode the real Hub picks: LFS for binary data files and big files."""
    return path.lower().endswith(LFS_SUFFIXES) or size >= LFS_MIN_SIZE


class StaleParent(Exception):
    """A commit named a parent that is no longer the head of its branch (HTTP 412)."""


@dataclass(frozen=True)
class FileEntry:
    """One file in a commit: its content digest (key into the blob store) and how it is stored."""

    sha256: str
    size: int
    git_oid: str
    lfs: bool

    def info(self, path: str) -> dict[str, object]:
        data: dict[str, object] = {
            "type": "file",
            "path": path,
            "size": self.size,
            "oid": self.git_oid,
        }
        if self.lfs:
            data["lfs"] = {"oid": self.sha256, "size": self.size, "pointerSize": 134}
        return data

    @property
    def etag(self) -> str:
        return self.sha256 if self.lfs else self.git_oid


@dataclass(frozen=True)
class Commit:
    sha: str
    parent: str | None
    title: str
    files: dict[str, FileEntry]
    date: float = field(default_factory=time.time)


@dataclass
class Repo:
    repo_id: str
    repo_type: str
    private: bool = False
    commits: dict[str, Commit] = field(default_factory=dict)
    branches: dict[str, str] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)

    def resolve(self, revision: str) -> Commit | None:
        """The commit named by a branch, a tag or a (full) commit sha."""
        sha = self.branches.get(revision) or self.tags.get(revision)
        if sha is None and revision.startswith("refs/heads/"):
            sha = self.branches.get(revision[len("refs/heads/") :])
        if sha is None and revision.startswith("refs/tags/"):
            sha = self.tags.get(revision[len("refs/tags/") :])
        if sha is None and revision in self.commits:
            sha = revision
        return self.commits.get(sha) if sha else None

    @property
    def head(self) -> Commit:
        return self.commits[self.branches["main"]]

    def history(self, commit: Commit) -> list[Commit]:
        out = [commit]
        while out[-1].parent:
            out.append(self.commits[out[-1].parent])
        return out


class HubState:
    """All repos and blobs of one test Hub; every method is safe to call from server threads."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.repos: dict[str, Repo] = {}
        self.blobs: dict[str, bytes] = {}
        self._counter = 0

    def key(self, repo_type: str, repo_id: str) -> str:
        return f"{repo_type}/{repo_id}"

    def get(self, repo_type: str, repo_id: str) -> Repo | None:
        return self.repos.get(self.key(repo_type, repo_id))

    def store_blob(self, data: bytes) -> str:
        digest = hashlib.sha256(data).hexdigest()
        with self.lock:
            self.blobs[digest] = data
        return digest

    def entry_for(self, path: str, data: bytes, lfs: bool | None = None) -> FileEntry:
        digest = self.store_blob(data)
        use_lfs = wants_lfs(path, len(data)) if lfs is None else lfs
        return FileEntry(sha256=digest, size=len(data), git_oid=git_blob_oid(data), lfs=use_lfs)

    def create_repo(self, repo_type: str, repo_id: str, private: bool) -> Repo | None:
        """Create a repo with an initial commit holding ``.gitattributes``; None if it exists."""
        with self.lock:
            if self.get(repo_type, repo_id):
                return None
            repo = Repo(repo_id=repo_id, repo_type=repo_type, private=private)
            self.repos[self.key(repo_type, repo_id)] = repo
            files = {".gitattributes": self.entry_for(".gitattributes", GITATTRIBUTES, lfs=False)}
            repo.branches["main"] = self._add_commit(repo, None, "initial commit", files).sha
            return repo

    def commit(
        self,
        repo: Repo,
        branch: str,
        title: str,
        changes: dict[str, FileEntry | None],
        parent_commit: str | None = None,
    ) -> Commit:
        """Apply ``changes`` (path → entry, or None to delete a file or folder) on ``branch``."""
        with self.lock:
            head = repo.resolve(branch)
            if head is None:
                raise KeyError(branch)
            if parent_commit and parent_commit != head.sha:
                raise StaleParent(parent_commit)
            files = dict(head.files)
            for path, entry in changes.items():
                if entry is None:
                    prefix = path.rstrip("/") + "/"
                    for name in [p for p in files if p == path or p.startswith(prefix)]:
                        del files[name]
                else:
                    files[path] = entry
            commit = self._add_commit(repo, head.sha, title, files)
            repo.branches[branch] = commit.sha
            return commit

    def _add_commit(
        self, repo: Repo, parent: str | None, title: str, files: dict[str, FileEntry]
    ) -> Commit:
        self._counter += 1
        seed = f"{repo.repo_id}|{parent}|{title}|{self._counter}|{sorted(files.items())}"
        commit = Commit(hashlib.sha1(seed.encode()).hexdigest(), parent, title, files)
        repo.commits[commit.sha] = commit
        return commit
