"""Shared pytest options and fixtures."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-goldens",
        action="store_true",
        default=False,
        help="rewrite the golden files from the current output instead of comparing",
    )


@pytest.fixture
def update_goldens(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-goldens"))


@pytest.fixture(scope="session")
def verify_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One freshly ingested archive, built once; tests get copies of it (``arc``)."""
    from tests.verify_helpers import build_archive

    work = tmp_path_factory.mktemp("verify-template")
    return build_archive(work / "archive", work / "inputs")


@pytest.fixture
def arc(verify_template: Path, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the template archive, to break one way per test."""
    from tests.verify_helpers import copy_archive, make_tree_writable

    root = copy_archive(verify_template, tmp_path / "archive")
    yield root
    make_tree_writable(root)  # so that pytest can clean up after read-only tests
