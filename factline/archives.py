"""Reading a batch archive from disk into articles, one entry at a time, within size limits.

An archive is NDJSON (one article object per line), a zip, a tar or a tar.gz of `.txt`, `.md` and
`.json` files. The format is recognised by its content, not by its name. A member's path is only
ever an article id; nothing is written anywhere. Empty files, like empty lines and folders, hold no
article and are skipped. What cannot be one article (a bad line, a file that is not UTF-8, a nested
archive) becomes an entry with an error, and the rest is read on; what makes the whole archive
unusable (corruption, an unknown format, a limit) raises, before anything is stored where it can.
"""

from __future__ import annotations

import gzip
import io
import json
import tarfile
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO, Any, Literal

from pydantic import ValidationError

from factline.errors import ArchiveTooLarge, ArchiveUnreadable, ArchiveUnsupported, InvalidArchiveEntry
from schemas import ArchiveKind, ExtractionRequest, ItemType

TEXT_SUFFIXES = frozenset({".txt", ".md"})
JSON_SUFFIXES = frozenset({".json"})
ARCHIVE_SUFFIXES = frozenset({".zip", ".tar", ".gz", ".tgz", ".bz2", ".xz", ".zst", ".7z", ".rar"})
_CHUNK = 64 * 1024
_OTHER_FORMATS = {
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"7z\xbc\xaf\x27\x1c": "7z",
    b"Rar!": "rar",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"%PDF": "PDF",
}


@dataclass(frozen=True)
class ArchiveLimits:
    max_total_bytes: int
    max_file_bytes: int
    max_files: int


@dataclass(frozen=True)
class ArchiveEntry:
    """One article of the archive, or why that place in the archive holds none."""

    position: int
    article_id: str | None
    request: ExtractionRequest | None = None
    error: InvalidArchiveEntry | None = None


def detect_kind(path: Path) -> ArchiveKind:
    """The archive's format from its first bytes; raises ArchiveUnsupported for anything else."""
    with path.open("rb") as file:
        head = file.read(512)
        if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            return ArchiveKind.ZIP
        if head.startswith(b"\x1f\x8b"):
            return _gzipped_kind(path)
        if len(head) >= 262 and head[257:262] == b"ustar":
            return ArchiveKind.TAR
        for magic, name in _OTHER_FORMATS.items():
            if head.startswith(magic):
                raise ArchiveUnsupported(
                    f"The upload is a {name} file; send NDJSON, a zip, a tar or a tar.gz archive."
                )
        file.seek(0)
        first = b""
        while not first and (line := file.readline(_CHUNK)):
            first = line.strip()
    if first.startswith(b"\xef\xbb\xbf"):
        first = first[3:].lstrip()
    if first.startswith(b"{"):
        return ArchiveKind.NDJSON
    if not first:
        raise ArchiveUnreadable("The upload is empty.")
    raise ArchiveUnsupported(
        "The upload is neither NDJSON (one JSON object per line) nor a zip, tar or tar.gz archive."
    )


def _gzipped_kind(path: Path) -> ArchiveKind:
    try:
        with gzip.open(path) as file:
            head = file.read(512)
    except (OSError, EOFError, zlib.error) as error:
        raise ArchiveUnreadable(f"The gzip stream is corrupt: {error}.") from None
    if len(head) >= 262 and head[257:262] == b"ustar":
        return ArchiveKind.TAR_GZ
    raise ArchiveUnsupported("The upload is gzip-compressed but holds no tar archive; send a .tar.gz.")


class _Budget:
    """Counts articles and decompressed bytes against the limits, whatever the headers claim."""

    def __init__(self, limits: ArchiveLimits) -> None:
        self.limits = limits
        self.files = 0
        self.total = 0

    def count_file(self) -> None:
        self.files += 1
        if self.files > self.limits.max_files:
            raise ArchiveTooLarge("articles", self.limits.max_files, "files or lines")

    def read(self, stream: IO[bytes], name: str) -> bytes:
        chunks: list[bytes] = []
        size = 0
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            self.total += len(chunk)
            if size > self.limits.max_file_bytes:
                raise ArchiveTooLarge("file", self.limits.max_file_bytes, "bytes", name)
            if self.total > self.limits.max_total_bytes:
                raise ArchiveTooLarge("total", self.limits.max_total_bytes, "bytes decompressed")
            chunks.append(chunk)
        return b"".join(chunks)


def _validation_message(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'article'}: {item['msg']}"
        for item in error.errors()
    )


def _request(fields: dict[str, Any], types: list[ItemType] | None) -> ExtractionRequest:
    if types is not None and "types" not in fields:
        fields = {**fields, "types": types}
    return ExtractionRequest.model_validate(fields)


def _decode(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise InvalidArchiveEntry(f"{what} is not valid UTF-8 (bad byte at offset {error.start}).") from None


def _object(data: bytes, what: str) -> dict[str, Any]:
    text = _decode(data, what)
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise InvalidArchiveEntry(f"{what} is not valid JSON: {error}.") from None
    if not isinstance(value, dict):
        raise InvalidArchiveEntry(f"{what} is JSON but not an object with the fields of an article.")
    return value


def _entry(
    position: int, article_id: str, build: Any, types: list[ItemType] | None, what: str
) -> ArchiveEntry:
    """Build one entry; a bad article becomes an entry with its error."""
    try:
        fields = build()
        request = _request(fields, types)
    except InvalidArchiveEntry as error:
        return ArchiveEntry(position, article_id, error=error)
    except ValidationError as error:
        return ArchiveEntry(
            position, article_id, error=InvalidArchiveEntry(f"{what}: {_validation_message(error)}")
        )
    return ArchiveEntry(position, request.id or article_id, request=request)


def _count_lines(path: Path, budget: _Budget) -> None:
    """A quick pass that refuses too many lines before any is stored, instead of part-way through."""
    lines, content = 0, False
    with path.open("rb") as file:
        while piece := file.readline(_CHUNK):  # pieces: a line may be longer than memory should hold
            content = content or bool(piece.strip())
            if piece.endswith(b"\n"):
                lines, content = lines + content, False
    lines += content
    if lines > budget.limits.max_files:
        raise ArchiveTooLarge("articles", budget.limits.max_files, "files or lines")


def _read_ndjson(path: Path, types: list[ItemType] | None, budget: _Budget) -> Iterator[ArchiveEntry]:
    _count_lines(path, budget)
    position = 0
    with path.open("rb") as file:
        for number, line in enumerate(_lines(file, budget), start=1):
            if not line.strip():
                continue
            budget.count_file()
            what = f"Line {number}"

            def build(line: bytes = line, what: str = what) -> dict[str, Any]:
                return _object(line, what)

            yield _entry(position, f"line-{number}", build, types, what)
            position += 1


def _lines(file: IO[bytes], budget: _Budget) -> Iterator[bytes]:
    limit = budget.limits.max_file_bytes
    while line := file.readline(limit + 1):
        if len(line) > limit and not line.endswith(b"\n"):
            raise ArchiveTooLarge("file", limit, "bytes", "an NDJSON line")
        budget.total += len(line)
        if budget.total > budget.limits.max_total_bytes:
            raise ArchiveTooLarge("total", budget.limits.max_total_bytes, "bytes")
        yield line


def _member_article(
    position: int, name: str, read: Any, types: list[ItemType] | None, budget: _Budget
) -> ArchiveEntry:
    """One archive member as an entry: its path is its id, its suffix says how to read it."""
    article_id = name
    while article_id.startswith("./"):
        article_id = article_id[2:]
    suffix = PurePosixPath(name).suffix.lower()
    what = f"File “{article_id}”"
    if suffix in ARCHIVE_SUFFIXES:
        return ArchiveEntry(
            position,
            article_id,
            error=InvalidArchiveEntry(f"{what} is an archive; nested archives are not read."),
        )
    if suffix not in TEXT_SUFFIXES | JSON_SUFFIXES:
        return ArchiveEntry(
            position,
            article_id,
            error=InvalidArchiveEntry(f"{what} is not a .txt, .md or .json file."),
        )
    data: bytes = read()  # limits are enforced here and raise for the whole archive

    def build() -> dict[str, Any]:
        if suffix in JSON_SUFFIXES:
            return {"id": article_id, **_object(data, what)}
        return {"id": article_id, "text": _decode(data, what)}

    return _entry(position, article_id, build, types, what)


def _skipped(name: str) -> bool:
    """Folders' metadata that archivers add, not articles."""
    parts = PurePosixPath(name).parts
    return not parts or parts[0] == "__MACOSX" or parts[-1].startswith("._") or parts[-1] == ".DS_Store"


def _read_zip(path: Path, types: list[ItemType] | None, budget: _Budget) -> Iterator[ArchiveEntry]:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ArchiveUnreadable(f"The zip archive is corrupt: {error}.") from None
    with archive:
        members = [
            info
            for info in archive.infolist()
            if not info.is_dir() and not _skipped(info.filename) and info.file_size > 0
        ]
        if len(members) > budget.limits.max_files:
            raise ArchiveTooLarge("articles", budget.limits.max_files, "files or lines")
        if sum(info.file_size for info in members) > budget.limits.max_total_bytes:
            raise ArchiveTooLarge("total", budget.limits.max_total_bytes, "bytes decompressed")
        for position, info in enumerate(members):
            budget.count_file()

            def read(info: zipfile.ZipInfo = info) -> bytes:
                if info.flag_bits & 0x1:
                    raise InvalidArchiveEntry(f"File “{info.filename}” is encrypted.")
                if info.file_size > budget.limits.max_file_bytes:
                    raise ArchiveTooLarge("file", budget.limits.max_file_bytes, "bytes", info.filename)
                try:
                    with archive.open(info) as stream:
                        return budget.read(stream, info.filename)
                except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
                    raise ArchiveUnreadable(
                        f"The zip archive is corrupt at “{info.filename}”: {error}."
                    ) from None

            yield _guarded(position, info.filename, read, types, budget)


def _guarded(
    position: int, name: str, read: Any, types: list[ItemType] | None, budget: _Budget
) -> ArchiveEntry:
    try:
        return _member_article(position, name, read, types, budget)
    except InvalidArchiveEntry as error:
        return ArchiveEntry(position, name, error=error)


def _read_tar(
    path: Path, types: list[ItemType] | None, budget: _Budget, mode: Literal["r:", "r:gz"]
) -> Iterator[ArchiveEntry]:
    try:
        archive = tarfile.open(path, mode)  # noqa: SIM115 - closed by the with below
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise ArchiveUnreadable(f"The tar archive is corrupt: {error}.") from None
    position = 0
    try:
        with archive:
            for member in archive:
                if member.isdir() or _skipped(member.name) or (member.isfile() and member.size == 0):
                    continue
                budget.count_file()
                if not member.isfile():
                    yield ArchiveEntry(
                        position,
                        member.name,
                        error=InvalidArchiveEntry(f"“{member.name}” is a link or device, not a file."),
                    )
                    position += 1
                    continue

                def read(member: tarfile.TarInfo = member) -> bytes:
                    if member.size > budget.limits.max_file_bytes:
                        raise ArchiveTooLarge("file", budget.limits.max_file_bytes, "bytes", member.name)
                    stream = archive.extractfile(member)
                    return budget.read(stream or io.BytesIO(), member.name)

                yield _guarded(position, member.name, read, types, budget)
                position += 1
    except (tarfile.TarError, OSError, EOFError, zlib.error) as error:
        raise ArchiveUnreadable(f"The tar archive is corrupt: {error}.") from None


def read_archive(
    path: Path, kind: ArchiveKind, types: list[ItemType] | None, limits: ArchiveLimits
) -> Iterator[ArchiveEntry]:
    """The archive's entries in order. Raises ArchiveUnreadable or ArchiveTooLarge part-way through."""
    budget = _Budget(limits)
    match kind:
        case ArchiveKind.NDJSON:
            return _read_ndjson(path, types, budget)
        case ArchiveKind.ZIP:
            return _read_zip(path, types, budget)
        case ArchiveKind.TAR:
            return _read_tar(path, types, budget, "r:")
        case ArchiveKind.TAR_GZ:
            return _read_tar(path, types, budget, "r:gz")
