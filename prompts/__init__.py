"""Prompt texts, versioned by file name; their content hash is part of every result's prompt_version."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache, cached_property
from importlib import resources


@dataclass(frozen=True)
class PromptTemplate:
    name: str
    text: str

    @cached_property
    def version(self) -> str:
        """Name plus content hash: an edited prompt never passes for the one a result came from."""
        digest = hashlib.sha256(self.text.encode()).hexdigest()[:8]
        return f"{self.name}+{digest}"

    @cached_property
    def system(self) -> str:
        """The text before the first `## ` section: the same for every call, so servers cache it."""
        return self.text.split("\n## ", 1)[0].strip()

    @cached_property
    def _sections(self) -> dict[str, str]:
        """Parsed once: every request builds its messages (and its cache key) from the sections."""
        parts = (part.partition("\n") for part in self.text.split("\n## ")[1:])
        return {heading.strip(): body.strip() for heading, _, body in parts}

    def section(self, title: str) -> str:
        """The body of the `## title` section."""
        try:
            return self._sections[title]
        except KeyError:
            raise KeyError(f"{self.name} has no section {title!r}") from None


@cache
def load_prompt(name: str) -> PromptTemplate:
    return PromptTemplate(name=name, text=resources.files(__name__).joinpath(f"{name}.md").read_text("utf-8"))
