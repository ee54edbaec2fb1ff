"""Object-store connector: CSV/TSV/JSONL/Parquet files matched by a glob, through fsspec.

Local paths, ``memory://`` and any fsspec backend (``s3://`` with s3fs, ``gs://`` with gcsfs,
``az://`` with adlfs; the backends are optional installs). Files are parsed and mapped row by
row exactly like the file connector's (same quarantine reasons).

Incremental by file: the bookmark is a manifest of each file's fingerprint (ETag or checksum
when the store has one, else size and modification time). A run reads only new or changed
files, each one whole, and never opens an unchanged one. A file's fingerprint joins the
manifest with its last batch, so a crash mid-file re-reads that file (the store's upsert
absorbs the repeat) and never skips it. A file that cannot be parsed, or lacks the mapped
columns, is quarantined once as ``unreadable_file`` instead of blocking the source on every run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from fsspec import AbstractFileSystem
from fsspec.core import url_to_fs

from connectors.base import Batch, Bookmark, ConnectorError
from connectors.file_options import FileSourceOptions, MappingOptions
from connectors.files import FileConnector
from connectors.objectstore_options import ObjectStoreOptions
from connectors.schema import QuarantinedRow
from connectors.text_io import printable

__all__ = ["ObjectStoreConnector", "ObjectStoreOptions"]

CURSOR_FIELD = "files"
# Backends whose fingerprints identify content (checked first), then change times.
_CONTENT_KEYS = ("ETag", "etag", "md5Hash", "crc32c", "content_md5")
_TIME_KEYS = ("mtime", "LastModified", "last_modified", "updated", "created")
_BACKEND_PACKAGES = {"s3": "s3fs", "s3a": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs",
                     "abfs": "adlfs", "abfss": "adlfs"}  # fmt: skip


class ObjectStoreConnector:
    """Reads the files under one glob URL.

    Args:
        name: Source instance name.
        options: Validated object-store options.
        customer_salt: Secret salt for hashing customer identifiers.
        now: Clock for the future-date check (tests pin it).
    """

    def __init__(
        self,
        name: str,
        options: ObjectStoreOptions,
        customer_salt: str,
        now: datetime | None = None,
    ) -> None:
        self.name = name
        self.options = options
        id_cols = options.columns.id
        self.primary_key = id_cols if isinstance(id_cols, str) else "+".join(id_cols)
        self.cursor_field: str | None = CURSOR_FIELD
        self._salt = customer_salt
        self._now = now

    def check(self) -> str:
        """Lists the glob and checks that the first file parses with the mapped columns."""
        fs, files = self._list()
        if not files:
            raise ConnectorError(
                f"source {self.name!r}: no file matches {self.options.url}: check the path and "
                "the glob (** matches sub-folders)"
            )
        first = sorted(files)[0]
        parser = self._parser(fs, first)
        frame, _ = parser.parse(self._fetch(fs, first))
        missing = parser.missing_columns(frame)
        if missing:
            raise ConnectorError(
                f"source {self.name!r}: columns {missing} not in {fs.unstrip_protocol(first)} "
                f"(has {sorted(frame.columns)[:20]})"
            )
        return f"{self.options.url}: {len(files)} files, {fs.unstrip_protocol(first)} parses"

    def read(self, bookmark: Bookmark | None) -> Iterator[Batch]:
        """Yields the rows of new and changed files, file by file."""
        manifest = _manifest(bookmark, self.name)
        fs, files = self._list()
        # Files gone from the store leave the manifest, so it stays the size of the listing.
        done = {path: print_ for path, print_ in manifest.items() if path in files}
        for path in sorted(files):
            fingerprint = files[path]
            if manifest.get(path) == fingerprint:
                continue
            done[path] = fingerprint
            final = Bookmark(CURSOR_FIELD, json.dumps({"files": done}, sort_keys=True))
            yield from self._read_file(fs, path, final)

    def _read_file(self, fs: AbstractFileSystem, path: str, final: Bookmark) -> Iterator[Batch]:
        """Yields one file's batches; only the last carries the bookmark that covers it."""
        pending: Batch | None = None
        # A failed download fails the run (the next one retries); only content that does not
        # parse is quarantined, since reading it again would give the same result.
        data = self._fetch(fs, path)
        try:
            parser = self._parser(fs, path)
            for batch in parser.read_content(data):
                # Inside a file the row cursor means nothing to the next run: a file is
                # done only when all its batches are persisted.
                batch.bookmark = None
                if pending is not None:
                    yield pending
                pending = batch
        except ConnectorError as error:
            bad = self._unreadable(fs, path, str(error))
            if pending is not None:
                pending.quarantined.append(bad)
                pending.rows_read += 1
            else:
                pending = Batch(quarantined=[bad], rows_read=1)
        final_batch = pending or Batch()
        final_batch.bookmark = final
        yield final_batch

    def _list(self) -> tuple[AbstractFileSystem, dict[str, str]]:
        """The filesystem and the fingerprint of every file the glob matches."""
        url = self.options.url
        try:
            fs, pattern = url_to_fs(url, **self.options.storage_options)
        except ImportError as error:
            protocol = url.split("://", 1)[0] if "://" in url else "file"
            package = _BACKEND_PACKAGES.get(protocol, f"the fsspec backend for {protocol}://")
            raise ConnectorError(
                f"source {self.name!r}: reading {protocol}:// needs {package}; install it "
                f"(pip install {package}) or use another URL ({error})"
            ) from error
        except (ValueError, TypeError) as error:
            raise ConnectorError(f"source {self.name!r}: bad url or options: {error}") from error
        try:
            found = fs.glob(pattern, detail=True)
        except Exception as error:  # noqa: BLE001 - every backend raises its own errors
            raise ConnectorError(
                f"source {self.name!r}: cannot list {url}: {type(error).__name__}: {error} "
                "(check the bucket/path and the credentials in the backend's environment)"
            ) from error
        assert isinstance(found, dict)  # noqa: S101 - detail=True returns a mapping
        return fs, {
            str(path): _fingerprint(info)
            for path, info in found.items()
            if info.get("type", "file") == "file"
        }

    def _parser(self, fs: AbstractFileSystem, path: str) -> FileConnector:
        fields = set(MappingOptions.model_fields) | {"format", "cursor_column", "encoding"}
        file_options = FileSourceOptions.model_validate(
            {**self.options.model_dump(include=fields), "path": Path(path)}
        )
        label = fs.unstrip_protocol(path)
        return FileConnector(self.name, file_options, self._salt, self._now, label=label)

    def _fetch(self, fs: AbstractFileSystem, path: str) -> bytes:
        try:
            return bytes(fs.cat_file(path))
        except Exception as error:  # noqa: BLE001 - every backend raises its own errors
            raise ConnectorError(
                f"source {self.name!r}: cannot read {fs.unstrip_protocol(path)}: "
                f"{type(error).__name__}: {error}"
            ) from error

    def _unreadable(self, fs: AbstractFileSystem, path: str, detail: str) -> QuarantinedRow:
        label = fs.unstrip_protocol(path)
        return QuarantinedRow(
            source=self.name,
            row_ref=printable(label, 500),
            reason="unreadable_file",
            detail=printable(detail, 1000),
            raw=json.dumps({"file": label}, ensure_ascii=False),
        )


def _fingerprint(info: dict[str, Any]) -> str:
    """What changes when a file's content does: a content tag, else size and change time."""
    for key in _CONTENT_KEYS:
        if info.get(key):
            return f"{key}={str(info[key]).strip(chr(34))}"
    size = info.get("size")
    for key in _TIME_KEYS:
        value = info.get(key)
        if value is not None:
            stamp = value.isoformat() if isinstance(value, datetime) else str(value)
            return f"size={size};{key}={stamp}"
    return f"size={size}"


def _manifest(bookmark: Bookmark | None, source: str) -> dict[str, str]:
    if bookmark is None:
        return {}
    try:
        files = json.loads(bookmark.value)["files"]
        return {str(k): str(v) for k, v in files.items()}
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise ConnectorError(
            f"source {source!r}: saved state is not a file manifest; delete the source's row "
            "in the connector_state table to read every file again"
        ) from error
