"""The project is published as ``spatialalign`` (``dsr`` on PyPI is an unrelated package); the
import name and the command stay ``dsr``, and every card links to the right project page."""

from __future__ import annotations

import ast
import email
import importlib.metadata
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

import dsr
from dsr.cards import render_dataset_card
from dsr.cards.model_card import render_model_card

ROOT = Path(__file__).resolve().parents[1]
PYPI_LINK = re.compile(r"https://pypi\.org/project/([A-Za-z0-9_.-]+)/?")


def _pyproject(root: Path = ROOT) -> dict[str, Any]:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    parsed: dict[str, Any] = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    return parsed


def test_distribution_is_spatialalign_with_the_dsr_command() -> None:
    project = _pyproject()["project"]
    assert project["name"] == "spatialalign"
    assert project["scripts"] == {"dsr": "dsr.cli:main"}


@pytest.mark.parametrize(
    "card",
    [
        render_dataset_card({"configs": {}, "dsr_version": "0.1.0"}),
        render_model_card({"settings": {}, "dsr_version": "0.1.0", "format_version": 1}),
    ],
)
def test_cards_link_to_the_spatialalign_project_page(card: str) -> None:
    assert PYPI_LINK.findall(card) == ["spatialalign"]


def test_no_project_file_links_to_the_unrelated_dsr_package() -> None:
    files = [
        ROOT / "README.md",
        ROOT / "Makefile",
        *(ROOT / "dsr").rglob("*.md"),
        *(ROOT / "dsr").rglob("*.py"),
    ]
    linked = {path.name: PYPI_LINK.findall(path.read_text(encoding="utf-8")) for path in files}
    assert not {name: found for name, found in linked.items() if set(found) - {"spatialalign"}}


# -- what `pip install spatialalign` and the sdist hold -------------------------------------------

#: Generated or local folders that a checkout may hold but that are no part of the project.
NOT_SOURCE = shutil.ignore_patterns(
    ".git",
    ".venv",
    "__pycache__",
    "*.py[cod]",
    "*.egg-info",
    "build",
    "dist",
    "demo_output",
    "test-artifacts",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".hypothesis",
)
#: Files of the repository root that the sdist must hold to run the tests and cite the work.
ROOT_FILES = ("LICENSE", "CITATION.cff", "README.md", "Makefile", "pyproject.toml", "MANIFEST.in")


def _files_under(root: Path, folder: str) -> set[str]:
    """Paths relative to ``root`` of the files below ``root/folder`` (bytecode left out)."""
    return {
        path.relative_to(root).as_posix()
        for path in (root / folder).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def _build(kind: str, source: Path, out: Path) -> Path:
    """Run the pyproject's build backend hook ``build_<kind>`` in ``source`` (a fresh process, as
    a build frontend does); the path of the archive it writes into ``out``."""
    backend = _pyproject(source)["build-system"]["build-backend"]
    code = (
        f"import importlib, sys; b = importlib.import_module({backend!r}); "
        f"print(b.build_{kind}(sys.argv[1]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(out)], cwd=source, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return out / done.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The sdist of a copy of this checkout, then the wheel built from the unpacked sdist (what
    ``python -m build`` does), so the wheel proves the sdist is complete enough to build."""
    pytest.importorskip("setuptools")
    tmp = tmp_path_factory.mktemp("dist")
    source = _copy_checkout(tmp / "checkout")
    sdist = _build("sdist", source, tmp)
    with tarfile.open(sdist) as archive:
        archive.extractall(tmp / "unpacked")  # noqa: S202 - our own archive
    (unpacked,) = (tmp / "unpacked").iterdir()
    wheel = _build("wheel", unpacked, tmp)
    return {"checkout": source, "sdist": sdist, "wheel": wheel}


def _copy_checkout(dst: Path) -> Path:
    """What a fresh clone holds: the files git tracks (or would: untracked, not ignored), never
    local data folders; outside a git checkout (an unpacked sdist), the tree minus caches."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        ).stdout.decode()
    except (OSError, subprocess.CalledProcessError):
        shutil.copytree(ROOT, dst, ignore=NOT_SOURCE)
        return dst
    for name in filter(None, listed.split("\0")):
        if (ROOT / name).is_file():  # a tracked file deleted in the work tree is listed too
            (dst / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dst / name)
    return dst


def test_wheel_ships_every_file_of_the_package_with_its_data_and_types(
    built: dict[str, Path],
) -> None:
    with zipfile.ZipFile(built["wheel"]) as wheel:
        names = set(wheel.namelist())
    in_package = {name for name in names if name.startswith("dsr/")}
    assert in_package == _files_under(built["checkout"], "dsr")
    data = {"dsr/py.typed", "dsr/cards/templates/model_card.md", "dsr/report/assets/index.html"}
    assert data <= in_package
    assert not {name for name in names if name.startswith(("tests/", "benchmarks/", "docs/"))}
    dist_info = f"spatialalign-{dsr.__version__}.dist-info"
    assert f"{dist_info}/licenses/LICENSE" in names


def test_wheel_metadata_declares_the_license_and_the_directly_imported_packages(
    built: dict[str, Path],
) -> None:
    with zipfile.ZipFile(built["wheel"]) as wheel:
        dist_info = f"spatialalign-{dsr.__version__}.dist-info"
        metadata = email.message_from_bytes(wheel.read(f"{dist_info}/METADATA"))
        entry_points = wheel.read(f"{dist_info}/entry_points.txt").decode()
    assert metadata["Name"] == "spatialalign"
    assert metadata["License-Expression"] == "Apache-2.0"
    requires = metadata.get_all("Requires-Dist") or []
    required = {_requirement_name(r) for r in requires if "extra ==" not in r}
    assert {"pillow", "pyyaml", "safetensors", "tokenizers"} <= required
    assert "dsr = dsr.cli:main" in entry_points


def test_sdist_holds_the_tests_docs_benchmarks_and_root_files(built: dict[str, Path]) -> None:
    with tarfile.open(built["sdist"]) as archive:
        members = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    expected = set(ROOT_FILES)
    for folder in ("dsr", "tests", "docs", "benchmarks"):
        expected |= _files_under(built["checkout"], folder)
    assert expected - members == set()


def test_the_license_file_is_the_apache_2_text_that_pyproject_declares() -> None:
    assert _pyproject()["project"]["license"] == "Apache-2.0"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text and "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text


def test_every_third_party_package_imported_by_dsr_is_declared() -> None:
    """An import that works only because another dependency pulls the package in breaks the day
    that dependency drops it: each must be a dependency (or an optional extra) of its own."""
    project = _pyproject()["project"]
    declared = {_requirement_name(r) for r in project["dependencies"]}
    for extra, requirements in project["optional-dependencies"].items():
        if extra != "dev":  # the library never imports a test tool
            declared |= {_requirement_name(r) for r in requirements}
    providers = importlib.metadata.packages_distributions()
    undeclared = {
        module: sorted(files)
        for module, files in _third_party_imports(ROOT / "dsr").items()
        if not {_normalize(d) for d in providers.get(module, [module])} & declared
    }
    assert undeclared == {}


def _third_party_imports(package: Path) -> dict[str, set[str]]:
    """Top-level module → files of ``package`` importing it, for modules outside the standard
    library and outside ``dsr``."""
    found: dict[str, set[str]] = {}
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                modules = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules = [node.module]
            else:
                continue
            for module in modules:
                top = module.split(".")[0]
                if top != "dsr" and top not in sys.stdlib_module_names:
                    found.setdefault(top, set()).add(path.relative_to(package).as_posix())
    return found


def _requirement_name(requirement: str) -> str:
    return _normalize(re.split(r"[\s<>=!~;\[(]", requirement.strip(), maxsplit=1)[0])


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
