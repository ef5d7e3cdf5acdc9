"""Load the programs the roles install (files/*.py, no package) as modules for their tests."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import pathlib

import pytest

ROLES = pathlib.Path(__file__).resolve().parents[3] / "roles"


@pytest.fixture(name="role_script")
def fixture_role_script():
    """role_script("log_shipper", "shipper_stats.py") -> the program as a fresh module."""
    def load(role, filename):
        name = pathlib.Path(filename).stem
        loader = importlib.machinery.SourceFileLoader(name, str(ROLES / role / "files" / filename))
        module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))
        loader.exec_module(module)
        return module
    return load
