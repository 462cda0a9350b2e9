"""CheckedSpec: a spec that passed validation, what every later stage starts from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import SpecError
from .load import Document, SourceMap
from .spec import Spec


@dataclass
class CheckedSpec:
    """A spec that passed validation, with its document for positions and its warnings."""

    spec: Spec
    doc: Document
    warnings: list[SpecError] = field(default_factory=list)

    @property
    def file(self) -> str:
        return self.doc.file

    @property
    def source(self) -> SourceMap:
        return self.doc.source

    @property
    def folder(self) -> Path:
        return Path(self.doc.file).parent
