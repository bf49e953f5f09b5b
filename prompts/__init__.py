"""Prompt texts, versioned by file name; their content hash is part of every result's prompt_version."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    text: str

    @property
    def version(self) -> str:
        """Name plus content hash: an edited prompt never passes for the one a result came from."""
        digest = hashlib.sha256(self.text.encode()).hexdigest()[:8]
        return f"{self.name}+{digest}"


@cache
def load_prompt(name: str) -> PromptTemplate:
    return PromptTemplate(name=name, text=resources.files(__name__).joinpath(f"{name}.md").read_text("utf-8"))
