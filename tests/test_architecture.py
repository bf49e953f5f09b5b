"""Architecture rules that keep the layout honest, checked by import-linter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT


def test_import_contracts_hold() -> None:
    """Only factline.llm imports openai/instructor; schemas/ knows no framework; the core skips api/."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint_imports)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


def test_schemas_package_exports_everything_it_defines() -> None:
    import schemas
    from schemas import article, extraction, problem

    public = {
        name
        for module in (article, extraction, problem)
        for name, value in vars(module).items()
        if isinstance(value, type) and value.__module__ == module.__name__ and not name.startswith("_")
    }
    assert public <= set(schemas.__all__), public - set(schemas.__all__)
