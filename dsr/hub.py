"""Publishing a dataset folder to the Hugging Face Hub as a versioned dataset repository.

One linear function, :func:`push_folder`: check the token and the version tag → create the repo
if needed → merge the remote build record (configs pushed from elsewhere stay described) → upload
the folder in one commit → tag THAT commit. An existing tag is never moved unless ``force``.
Tokens come from the argument, ``HF_TOKEN`` or ``hf auth login``; they are never written anywhere.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from dsr.builders.folder import DatasetFolder
from dsr.errors import ConfigError, DataError, HubError
from dsr.layout import ASSETS_DIR, BUILD_RECORD, CARD, FORMAT_VERSION, UPLOAD_IGNORE

__all__ = [
    "VERSION_PATTERN",
    "check_push",
    "preflight_push",
    "push_folder",
    "push_model_folder",
    "user_repo_id",
]

log = logging.getLogger(__name__)

#: Release tags: ``vMAJOR.MINOR.PATCH`` with an optional suffix (``v1.0.0-rc1``).
VERSION_PATTERN = re.compile(r"v\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?")


def _check_version(version: str | None) -> None:
    if version is not None and not VERSION_PATTERN.fullmatch(version):
        raise ConfigError(
            f"version {version!r} is not a release tag: use vMAJOR.MINOR.PATCH, e.g. v1.0.0"
        )


def _token(token: str | None) -> str:
    from huggingface_hub import get_token

    resolved = token or get_token()
    if not resolved:
        raise HubError(
            "no Hugging Face token: set HF_TOKEN or run `hf auth login` (a write token is needed)"
        )
    return resolved


def user_repo_id(name: str, token: str | None = None) -> str:
    """``<user>/<name>`` for the user of the token, as the Hub asks it (``whoami`` on the
    configured endpoint): where ``create_repo(name)`` without a namespace creates a repo."""
    from huggingface_hub import HfApi, get_token
    from huggingface_hub.errors import HfHubHTTPError

    resolved = token or get_token()
    if not resolved:
        raise HubError(
            f"a push to {name!r} without a namespace goes to your Hub user, and no Hugging Face "
            "token says who you are: set HF_TOKEN or run `hf auth login` (a write token), or "
            "name the repo in full (--hub-model-id namespace/name)"
        )
    try:
        user = HfApi(token=resolved).whoami()["name"]
    except HfHubHTTPError as exc:
        raise HubError(
            f"the Hub refused the token ({str(exc).splitlines()[0]}): set HF_TOKEN to a valid "
            "write token or run `hf auth login`"
        ) from None
    return f"{user}/{name}"


def check_push(repo_id: str, version: str | None, token: str | None = None) -> None:
    """Offline checks of a push (repo id, version tag, a token exists), to run
    BEFORE a long build."""
    from huggingface_hub.errors import HFValidationError
    from huggingface_hub.utils import validate_repo_id

    try:
        validate_repo_id(repo_id)
    except HFValidationError as exc:
        raise ConfigError(
            f"--push {repo_id!r}: {str(exc).splitlines()[0]} (expected namespace/name)"
        ) from None
    _check_version(version)
    _token(token)


def _remote_record(api: Any, repo_id: str) -> dict[str, Any]:
    """The build record on ``main`` of the remote repo ({} for a new or foreign repo)."""
    from huggingface_hub.errors import EntryNotFoundError, RemoteEntryNotFoundError

    try:
        path = api.hf_hub_download(repo_id, BUILD_RECORD, repo_type="dataset", revision="main")
    except (EntryNotFoundError, RemoteEntryNotFoundError):
        return {}
    record: dict[str, Any] = json.loads(Path(path).read_text(encoding="utf-8"))
    if record.get("format_version", 0) > FORMAT_VERSION:
        raise DataError(
            f"{repo_id} has build record format {record['format_version']}, newer than this dsr "
            f"({FORMAT_VERSION}): upgrade dsr before pushing to it"
        )
    return record


def _merged_record(
    local: dict[str, Any], remote: dict[str, Any], pushed: list[str]
) -> dict[str, Any]:
    """Remote configs stay as they are; the pushed configs take their local records."""
    merged = dict(local)
    configs = dict(remote.get("configs", {}))
    configs.update({name: local["configs"][name] for name in pushed})
    merged["configs"] = configs
    return merged


def _stage(
    folder: DatasetFolder,
    record: dict[str, Any],
    pushed: list[str],
    repo_id: str,
    version: str | None,
) -> Path:
    """A copy (hard links) of what to upload: pushed configs, assets, and the merged card/record."""
    from dsr.cards import render_dataset_card
    from dsr.layout import atomic_write_text

    staging = Path(tempfile.mkdtemp(dir=folder.work_dir("push"), prefix="stage-"))
    # Only the files the card names: a run killed mid-write may have left others beside them.
    sources = [
        p
        for name in pushed
        for split in (folder.config_record(name) or {}).get("splits", {})
        for p in folder.data_files(name, split)
    ]
    sources += [p for p in (folder.root / ASSETS_DIR).rglob("*") if p.is_file()]
    for src in sources:
        if src.name.startswith("."):
            continue
        target = staging / src.relative_to(folder.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, target)
        except OSError:
            shutil.copy2(src, target)
    record = folder.publishable(record)
    atomic_write_text(staging / BUILD_RECORD, json.dumps(record, indent=2, sort_keys=True) + "\n")
    atomic_write_text(staging / CARD, render_dataset_card(record, repo_id=repo_id, version=version))
    return staging


def _existing_tags(api: Any, repo_id: str, repo_type: str = "dataset") -> set[str]:
    return {ref.name for ref in api.list_repo_refs(repo_id, repo_type=repo_type).tags}


def push_folder(
    folder: Path,
    repo_id: str,
    *,
    version: str | None,
    private: bool = False,
    force: bool = False,
    token: str | None = None,
    config_names: list[str] | None = None,
) -> str:
    """Upload the dataset folder to ``repo_id`` and tag the upload commit; returns its sha.

    ``config_names`` limits the upload to those configs (default: all configs of the folder);
    configs already in the repo and not pushed keep their files and their section of the card.
    """
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    _check_version(version)
    local = DatasetFolder(folder)
    record = local.read_record()
    pushed = list(config_names) if config_names is not None else list(record.get("configs", {}))
    unknown = [n for n in pushed if n not in record.get("configs", {})]
    if unknown or not pushed:
        raise ConfigError(
            f"nothing to push from {folder}: configs {unknown or pushed} are not built there "
            f"(built: {', '.join(record.get('configs', {})) or 'none'})"
        )
    api = HfApi(token=_token(token))
    try:
        return _push(api, local, record, repo_id, pushed, version, private, force)
    except HfHubHTTPError as exc:
        raise HubError(
            f"the Hub refused the push to {repo_id}: {str(exc).splitlines()[0]}"
        ) from None


def _push(
    api: Any,
    local: DatasetFolder,
    record: dict[str, Any],
    repo_id: str,
    pushed: list[str],
    version: str | None,
    private: bool,
    force: bool,
) -> str:
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    if version and version in _existing_tags(api, repo_id) and not force:
        raise HubError(
            f"{repo_id} already has tag {version}: choose a new version, or pass --force to move it"
        )
    merged = _merged_record(record, _remote_record(api, repo_id), pushed)
    staging = _stage(local, merged, pushed, repo_id, version)
    try:
        info = api.upload_folder(
            folder_path=staging,
            repo_id=repo_id,
            repo_type="dataset",
            ignore_patterns=list(UPLOAD_IGNORE),
            delete_patterns=[f"{name}/*" for name in pushed],
            commit_message=f"dsr: {', '.join(pushed)}" + (f" ({version})" if version else ""),
        )
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    sha: str = info.oid
    if version:
        _tag(api, repo_id, version, sha, force)
    log.info(
        "pushed %s to %s at %s%s",
        ", ".join(pushed),
        repo_id,
        sha[:10],
        f" tagged {version}" if version else "",
    )
    return sha


def _tag(
    api: Any, repo_id: str, version: str, sha: str, force: bool, repo_type: str = "dataset"
) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    if force and version in _existing_tags(api, repo_id, repo_type):
        api.delete_tag(repo_id, tag=version, repo_type=repo_type)
    try:
        api.create_tag(repo_id, tag=version, revision=sha, repo_type=repo_type)
    except HfHubHTTPError as exc:
        if exc.response is not None and exc.response.status_code == 409:
            raise HubError(
                f"{repo_id} got tag {version} from someone else meanwhile; commit {sha} is "
                "uploaded but untagged: push again with a new version"
            ) from None
        raise


def preflight_push(
    repo_id: str,
    version: str | None,
    *,
    repo_type: str = "model",
    force: bool = False,
    token: str | None = None,
) -> None:
    """Everything about a push that can be checked before hours of work: the repo id and tag
    syntax, a token the Hub accepts, and (for an existing repo) that the tag is still free."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError, RepositoryNotFoundError

    check_push(repo_id, version, token)
    api = HfApi(token=_token(token))
    try:
        api.whoami()
    except HfHubHTTPError as exc:
        raise HubError(
            f"the Hub refused the token ({str(exc).splitlines()[0]}): set HF_TOKEN to a valid "
            "write token or run `hf auth login`"
        ) from None
    if not version or force:
        return
    try:
        taken = version in _existing_tags(api, repo_id, repo_type)
    except RepositoryNotFoundError:
        return  # created at push time
    if taken:
        raise HubError(
            f"{repo_id} already has tag {version}: choose a new --version, or pass "
            "--force to move it"
        )


def push_model_folder(
    folder: Path,
    repo_id: str,
    *,
    files: list[str],
    version: str | None,
    private: bool = False,
    force: bool = False,
    token: str | None = None,
) -> str:
    """Upload ``files`` (paths relative to ``folder``) of a model folder to ``repo_id`` in one
    commit and tag that commit with ``version``; returns the commit sha."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    _check_version(version)
    missing = [f for f in files if not (Path(folder) / f).is_file()]
    if missing:
        raise ConfigError(
            f"nothing to push: {folder} lacks {', '.join(missing)} (has training finished?)"
        )
    api = HfApi(token=_token(token))
    try:
        api.create_repo(repo_id, repo_type="model", private=private, exist_ok=True)
        if version and version in _existing_tags(api, repo_id, "model") and not force:
            raise HubError(
                f"{repo_id} already has tag {version}: choose a new version, or pass "
                "--force to move it"
            )
        info = api.upload_folder(
            folder_path=str(folder),
            repo_id=repo_id,
            repo_type="model",
            allow_patterns=files,
            commit_message="dsr train: SpatialAlign LoRA" + (f" ({version})" if version else ""),
        )
        sha: str = info.oid
        if version:
            _tag(api, repo_id, version, sha, force, repo_type="model")
    except HfHubHTTPError as exc:
        raise HubError(
            f"the Hub refused the push to {repo_id}: {str(exc).splitlines()[0]}"
        ) from None
    log.info(
        "pushed %d files to %s at %s%s",
        len(files),
        repo_id,
        sha[:10],
        f" tagged {version}" if version else "",
    )
    return sha
