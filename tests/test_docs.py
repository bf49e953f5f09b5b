"""The README documents what the code does: every setting, and the problem types."""

from __future__ import annotations

import api.problems as problems
from factline.settings import Settings
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text("utf-8")


def test_every_setting_is_documented_with_its_default() -> None:
    for name, field in Settings.model_fields.items():
        variable = f"`FACTLINE_{name.upper()}`"
        assert variable in README, variable
        row = next(line for line in README.splitlines() if line.startswith(f"| {variable}"))
        if field.default_factory is None:  # computed defaults (a cache path, the CPU count) are described
            default = "unset" if field.default is None else f"`{field.default}`"
            assert f"| {default} |" in row, row


def test_every_problem_type_is_documented() -> None:
    for value in vars(problems).values():
        if isinstance(value, problems.ProblemType):
            assert f"| {value.status} | `{value.slug}` |" in README, value.slug
