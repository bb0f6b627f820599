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

from dsr import DISTRIBUTION, PYPI_URL
from dsr.cards.citation import ARXIV_URL, AUTHORS_CODE_URL, PAPER_TITLE, citation_section
from dsr.prompts import DSRType, PromptParseError

__all__ = [
    "default_config",
    "mask_local_paths",
    "mask_secrets",
    "publishable_values",
    "render_dataset_card",
    "sanitize_command",
    "size_category",
]

#: Options whose values are secrets and never written to any file.
SECRET_OPTIONS = ("--token", "--hf-token", "--api-key", "--openai-api-key")
_SECRET_PATTERN = re.compile(r"(hf_[A-Za-z0-9]{10,}|sk-[A-Za-z0-9_-]{10,})")
_URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s\"']+@")


def mask_secrets(text: str) -> str:
    """``text`` with token-like strings and credentials in URLs
    (``https://user:key@host``) masked."""
    return _URL_CREDENTIALS.sub("***@", _SECRET_PATTERN.sub("***", text))


#: An absolute (or home-relative) local path: ``/…`` or ``~/…`` not preceded by a word character,
#: a dot, a colon, a slash, an ellipsis or ``<``, so URLs (``https://host/a``), Hub ids
#: (``org/name``), relative paths (``./a``, ``assets/a``), fractions (``1/2``), masked paths
#: (``…/a``) and closing HTML tags (``</details>``) are left alone. It ends at white space,
#: quotes, brackets, separators and backslashes (JSON escapes).
_LOCAL_PATH = re.compile(r"(?<![\w.:/~\\…<-])(?:~/|/)[^\s'\"`<>|;,)\]}\\]+")


def mask_local_paths(text: str, root: str | Path | None = None) -> str:
    """``text`` with every absolute local path made relative to ``root`` (the dataset folder;
    the folder itself becomes ``.``) when it lies inside it, else cut to ``…/<last part>``: a
    published file names no directory of the machine that built it."""
    bases = []
    if root is not None:
        bases = sorted(
            {str(Path(root).absolute()), str(Path(root).resolve())}, key=len, reverse=True
        )

    def relative(match: re.Match[str]) -> str:
        path = os.path.expanduser(match.group(0)).rstrip("/") or "/"
        for base in bases:
            if path == base or path.startswith(base + "/"):
                return path[len(base) + 1 :] or "."
        name = Path(path).name
        return f"…/{name}" if name else "…"

    return _LOCAL_PATH.sub(relative, text)


def publishable_values(obj: Any, root: str | Path | None = None) -> Any:
    """``obj`` (JSON-like: dicts, lists, strings, numbers) with every string value masked as a
    published file holds it: secrets masked, local paths made relative to ``root`` or cut to their
    last part. Mask the values a document is rendered from, never the rendered document: its
    markup (``</details>``) is not a path."""
    if isinstance(obj, str):
        return mask_local_paths(mask_secrets(obj), root)
    if isinstance(obj, dict):
        return {publishable_values(k, root): publishable_values(v, root) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [publishable_values(v, root) for v in obj]
    return obj


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


def _yaml_configs(configs: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    from dsr.layout import data_glob

    default = default_config(configs)
    out = []
    for config, rec in configs.items():
        fingerprints = rec.get("data_fingerprints") or {}
        files = [
            {"split": split, "path": data_glob(config, split, fingerprints.get(split))}
            for split in _ordered(rec.get("splits", {}), SPLIT_ORDER)
        ]
        out.append(
            {
                "config_name": config,
                "data_files": files,
                **({"default": True} if config == default else {}),
            }
        )
    return out


#: Cards list configs and splits in pipeline order (the build record's JSON keys are sorted).
CONFIG_ORDER = ("prompts", "samples", "tracks", "pairs")
SPLIT_ORDER = ("train", "test")
#: ``load_dataset(repo)`` without a config name loads the first of these that the repo has (the
#: full samples with their videos, else the prompts), or else its first config.
DEFAULT_CONFIGS = ("samples", "prompts")
#: The Hub's ``size_categories`` (number of rows of the largest config): (upper bound, label).
SIZE_CATEGORIES = (
    (1_000, "n<1K"),
    (10_000, "1K<n<10K"),
    (100_000, "10K<n<100K"),
    (1_000_000, "100K<n<1M"),
    (10_000_000, "1M<n<10M"),
    (100_000_000, "10M<n<100M"),
    (1_000_000_000, "100M<n<1B"),
)


#: What a user of each config should know first (shown under Usage when the config is present).
USAGE_NOTES = {
    "samples": "Per-frame boxes (`animal_boxes`, `object_boxes`) hold four NaN where the object is "
    "absent, with per-frame flags `animal_present` and `object_present`, so that "
    '`samples.with_format("torch")[i]["animal_boxes"]` is a float tensor of shape (frames, 4), '
    "(0, 4) for a sample without a readable frame (the feature is an `Array2D`; polars reads "
    "the parquet column as `list[array[f64, 4]]`).",
    "tracks": "`tracks` holds the rows of `samples` without the videos: use it for analysis with "
    "`load_dataset`, polars or duckdb that should not download the mp4 bytes.",
    "pairs": "In `pairs`, `chosen_ids` and `rejected_ids` are sample ids of `samples`, with their "
    "seeds and scores in parallel lists (`chosen_seeds`, `chosen_scores`, ...).",
}


def default_config(configs: Any) -> str | None:
    """The config ``load_dataset`` picks when given none (see ``DEFAULT_CONFIGS``)."""
    names = _ordered(configs)
    return next((n for n in DEFAULT_CONFIGS if n in names), names[0] if names else None)


def size_category(rows: int) -> str:
    """The Hub's size category of a dataset with ``rows`` rows."""
    return next((label for bound, label in SIZE_CATEGORIES if rows < bound), "n>1B")


def _type_key_first(obj: Any) -> Any:
    """``obj`` (YAML features) with ``length`` after the type key in every mapping: ``datasets``
    reads a feature's type from its first key, and the build record's JSON sorts the keys, which
    puts ``length`` before ``list``."""
    if isinstance(obj, list):
        return [_type_key_first(v) for v in obj]
    if isinstance(obj, dict):
        return {k: _type_key_first(obj[k]) for k in sorted(obj, key=lambda k: k == "length")}
    return obj


def _card_metadata(configs: dict[str, dict[str, Any]]) -> str:
    """The generated part of the card's YAML: configs (one the default), size and features."""
    import yaml

    meta: dict[str, Any] = {"configs": _yaml_configs(configs)} if configs else {}
    rows = [sum(rec.get("splits", {}).values()) for rec in configs.values()]
    meta["size_categories"] = [size_category(max(rows, default=0))]
    infos = [
        _type_key_first(rec["dataset_info"]) for rec in configs.values() if rec.get("dataset_info")
    ]
    if infos:
        meta["dataset_info"] = infos
    return yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=1000).strip()


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
        if counts
        else ""
    )
    settings = json.dumps(rec.get("settings", {}), indent=2, sort_keys=True)
    return (
        f"### `{name}`\n\n{rec.get('description', '')}\n\nRows per split: {splits or 'none'}.\n\n"
        f"| column | description |\n|---|---|\n{cols}\n{count_block}\n"
        f"{rec.get('card_markdown', '')}\n\n"
        f"Built with:\n\n```bash\n{rec.get('command', '')}\n```\n\n"
        f"<details><summary>Settings</summary>\n\n```json\n{settings}\n```\n\n</details>\n"
    )


def _how_built(configs: dict[str, dict[str, Any]], dsr_version: Any) -> str:
    """The recorded commands in pipeline order (one per distinct command), ready to re-run."""
    steps: list[tuple[str, list[str]]] = []
    for name, rec in configs.items():
        command = rec.get("command")
        if not command:
            continue
        known = next((names for cmd, names in steps if cmd == command), None)
        if known is None:
            steps.append((command, [name]))
        else:
            known.append(name)
    if not steps:
        return "No build command was recorded."
    lines = [f"pip install {DISTRIBUTION}=={dsr_version}"]
    for command, names in steps:
        lines += [f"# writes {', '.join(f'`{n}`' for n in names)}", command]
    return (
        "Run these commands in order in an empty folder, which becomes the dataset (`.` in them). "
        "A local input outside the dataset is shown by its last part (`…/name`): give yours. The "
        "seeds and every resolved setting of each config are under its *Settings* below.\n\n"
        "```bash\n" + "\n".join(lines) + "\n```"
    )


#: What the card says of the DSR types of a build with the paper's six (and of a record without
#: prompt counts).
PAPER_TYPES_TEXT = (
    "an animal\nstarts on one side of a static object (left, right or on top of it) and moves to "
    "another side. The\nsix DSR types are left→top (A, LT), top→left (B, TL), right→top (C, RT), "
    "left→right (D, LR),\ntop→right (E, TR) and right→left (F, RL)."
)


def _types_text(configs: dict[str, dict[str, Any]]) -> str:
    """The card's sentence on the DSR types: the paper's six, or the types the prompts hold."""
    per_split = (configs.get("prompts", {}).get("counts") or {}).get("per_type") or {}
    codes = {code for counts in per_split.values() for code, n in counts.items() if n}
    try:
        types = sorted({DSRType.coerce(c) for c in codes}, key=lambda t: t.order)
    except PromptParseError:
        return PAPER_TYPES_TEXT
    if all(t.paper for t in types):
        return PAPER_TYPES_TEXT
    names = [f"{'→'.join(t.value)} ({t.letter + ', ' if t.letter else ''}{t.code})" for t in types]
    listed = ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]
    return (
        "an animal starts in one spatial relation to a static object (left, right, on top of, "
        "under, in front of or behind it) and moves into another. The "
        f"{len(types)} DSR types of this dataset are {listed}; the paper's six are LT, TL, RT, "
        "LR, TR and RL (A–F)."
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
    configs = {
        name: record.get("configs", {})[name] for name in _ordered(record.get("configs", {}))
    }
    sections = "\n".join(_config_section(n, r) for n, r in configs.items())
    where = repo_id or "path/to/this/folder"
    revision = f', revision="{version}"' if version else ""
    loads = "\n".join(
        f'{n.replace("-", "_")} = load_dataset("{where}", "{n}"{revision})' for n in configs
    )
    default = default_config(configs)
    if default:
        loads = f'ds = load_dataset("{where}"{revision})  # no config name: `{default}`\n' + loads
    return template.format(
        paper_title=PAPER_TITLE,
        arxiv_url=ARXIV_URL,
        authors_code=AUTHORS_CODE_URL.removeprefix("https://github.com/"),
        authors_code_url=AUTHORS_CODE_URL,
        how_built=_how_built(configs, record.get("dsr_version")),
        citation=citation_section(),
        yaml_metadata=_card_metadata(configs),
        format_version=record.get("format_version"),
        dsr_version=record.get("dsr_version"),
        pypi_url=PYPI_URL,
        dsr_types=_types_text(configs),
        config_list=", ".join(f"`{n}`" for n in configs) or "none yet",
        sections=sections,
        load_snippet=loads,
        report_command=f"dsr report {where}{'@' + version if version else ''} --out report",
        usage_notes="".join(f"\n\n{note}" for name, note in USAGE_NOTES.items() if name in configs),
    )
