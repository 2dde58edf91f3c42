"""Session-scoped WeChat fixtures: each layout is built once, plain and encrypted
(key derivation is the costly part: 256000 PBKDF2-SHA512 rounds per 4.x file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.wechat import layouts


@pytest.fixture(scope="session")
def pc3_plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return layouts.build_pc3(tmp_path_factory.mktemp("pc3-plain"))


@pytest.fixture(scope="session")
def pc3_encrypted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return layouts.build_pc3(tmp_path_factory.mktemp("pc3-enc"), encrypted=True)


@pytest.fixture(scope="session")
def android_plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return layouts.build_android(tmp_path_factory.mktemp("android-plain"))


@pytest.fixture(scope="session")
def android_encrypted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return layouts.build_android(tmp_path_factory.mktemp("android-enc"), encrypted=True)


@pytest.fixture(scope="session")
def ios_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return layouts.build_ios_tree(tmp_path_factory.mktemp("ios-tree"))


@pytest.fixture(scope="session")
def ios_backup(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return layouts.build_ios_backup(tmp_path_factory.mktemp("ios-backup"))


@pytest.fixture(scope="session")
def ios_encrypted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return layouts.build_ios_tree(tmp_path_factory.mktemp("ios-enc"), encrypted=True)


@pytest.fixture(scope="session")
def pc4_plain(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return layouts.build_pc4(tmp_path_factory.mktemp("pc4-plain"))


@pytest.fixture(scope="session")
def pc4_encrypted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return layouts.build_pc4(tmp_path_factory.mktemp("pc4-enc"), encrypted=True)
