"""Render the dataset card (README.md with YAML front matter) from the folder's build record."""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

__all__ = ["mask_local_paths", "mask_secrets", "render_dataset_card", "sanitize_command"]

#: Options whose values are secrets and never written to any file.
SECRET_OPTIONS = ("--token", "--hf-token", "--api-key", "--openai-api-key")
_SECRET_PATTERN = re.compile(r"(hf_[A-Za-z0-9]{10,}|sk-[A-Za-z0-9_-]{10,})")
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s\"']+@")


def mask_secrets(text: str) -> str:
    """``text`` with token-like strings and credentials in URLs (``https://user:key@host``) masked."""
    return _URL_CREDENTIALS.sub("***@", _SECRET_PATTERN.sub("***", text))


#: An absolute (or home-relative) local path: ``/…`` or ``~/…`` not preceded by a word character,
#: a dot, a colon, a slash or an ellipsis, so URLs (``https://host/a``), Hub ids (``org/name``),
#: relative paths (``./a``, ``assets/a``), fractions (``1/2``) and masked paths (``…/a``) are left
#: alone. It ends at white space, quotes, brackets, separators and backslashes (JSON escapes).
_LOCAL_PATH = re.compile(r"(?<![\w.:/~\\…-])(?:~/|/)[^\s'\"`<>|;,)\]}\\]+")


def mask_local_paths(text: str, root: str | Path | None = None) -> str:
    """``text`` with every absolute local path made relative to ``root`` (the dataset folder;
    the folder itself becomes ``.``) when it lies inside it, else cut to ``…/<last part>``: a
    published file names no directory of the machine that built it."""
    bases = []
    if root is not None:
        bases = sorted({str(Path(root).absolute()), str(Path(root).resolve())}, key=len, reverse=True)

    def relative(match: re.Match[str]) -> str:
        path = os.path.expanduser(match.group(0)).rstrip("/") or "/"
        for base in bases:
            if path == base or path.startswith(base + "/"):
                return path[len(base) + 1 :] or "."
        name = Path(path).name
        return f"…/{name}" if name else "…"

    return _LOCAL_PATH.sub(relative, text)


def sanitize_command(argv: Sequence[str]) -> str:
    """The command line as a string with secret option values and token-like strings masked."""
    out: list[str] = []
    hide_next = False
    for arg in argv:
        if hide_next:
            out.append("***")
            hide_next = False
            continue
        name, eq, _ = arg.partition("=")
        if name in SECRET_OPTIONS:
            if eq:
                out.append(f"{name}=***")
            else:
                out.append(arg)
                hide_next = True
            continue
        out.append(mask_secrets(arg))
    return shlex.join(out)


def _yaml_configs(configs: dict[str, dict[str, Any]]) -> str:
    from dsr.builders.folder import data_glob

    lines = ["configs:"]
    for config, rec in configs.items():
        fingerprints = rec.get("data_fingerprints") or {}
        lines.append(f"- config_name: {config}")
        lines.append("  data_files:")
        for split in _ordered(rec.get("splits", {}), SPLIT_ORDER):
            lines.append(f"  - split: {split}")
            lines.append(f"    path: {data_glob(config, split, fingerprints.get(split))}")
    return "\n".join(lines)


#: Cards list configs and splits in pipeline order (the build record's JSON keys are sorted).
CONFIG_ORDER = ("prompts", "samples", "pairs")
SPLIT_ORDER = ("train", "test")


def _ordered(names: Any, order: tuple[str, ...] = CONFIG_ORDER) -> list[str]:
    return sorted(names, key=lambda n: (order.index(n) if n in order else len(order), n))


def _config_section(name: str, rec: dict[str, Any]) -> str:
    split_rows = rec.get("splits", {})
    splits = ", ".join(f"{s}: {split_rows[s]}" for s in _ordered(split_rows, SPLIT_ORDER))
    cols = "\n".join(f"| `{c}` | {h} |" for c, h in rec.get("columns", {}).items())
    counts = rec.get("counts") or {}
    count_block = (
        f"\n<details><summary>Counts (machine-readable)</summary>\n\n```json\n"
        f"{json.dumps(counts, indent=2, sort_keys=True)}\n```\n\n</details>\n"
        if counts else ""
    )
    settings = json.dumps(rec.get("settings", {}), indent=2, sort_keys=True)
    return (
        f"### `{name}`\n\n{rec.get('description', '')}\n\nRows per split: {splits or 'none'}.\n\n"
        f"| column | description |\n|---|---|\n{cols}\n{count_block}\n"
        f"{rec.get('card_markdown', '')}\n\n"
        f"Built with:\n\n```bash\n{rec.get('command', '')}\n```\n\n"
        f"<details><summary>Settings</summary>\n\n```json\n{settings}\n```\n\n</details>\n"
    )


def render_dataset_card(
    record: dict[str, Any],
    *,
    repo_id: str | None = None,
    version: str | None = None,
) -> str:
    """The full README.md of a dataset folder; ``repo_id``/``version`` (set when pushing) make the
    load_dataset snippet name the repo and the tag."""
    template = resources.files("dsr.cards").joinpath("templates/dataset_card.md").read_text("utf-8")
    configs = {name: record.get("configs", {})[name] for name in _ordered(record.get("configs", {}))}
    sections = "\n".join(_config_section(n, r) for n, r in configs.items())
    where = repo_id or "path/to/this/folder"
    revision = f', revision="{version}"' if version else ""
    loads = "\n".join(f'{n} = load_dataset("{where}", "{n}"{revision})' for n in configs)
    return template.format(
        yaml_configs=_yaml_configs(configs),
        format_version=record.get("format_version"),
        dsr_version=record.get("dsr_version"),
        config_list=", ".join(f"`{n}`" for n in configs) or "none yet",
        sections=sections,
        load_snippet=loads,
    )
