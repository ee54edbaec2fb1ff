"""Options of an object-store source: which files (a glob URL), how to parse and map them."""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator

from connectors.file_options import FileFormat, MappingOptions

# Credentials come from the backend's own environment (AWS_*, GOOGLE_APPLICATION_CREDENTIALS,
# instance roles), never from storage_options in a config file.
_SECRET_OPTION = re.compile(r"secret|password|token|credential|^key$|_key$|^sas", re.IGNORECASE)


class ObjectStoreOptions(MappingOptions):
    """Options of one object-store source (``kind: objectstore``).

    Besides the ``MappingOptions`` fields:

    Attributes:
        url: Glob of the files to read, e.g. ``s3://bucket/feedback/**/*.jsonl``,
            ``gs://bucket/surveys/*.parquet``, ``memory://inbox/*.csv`` or a local path
            (relative paths are resolved against the project root).
        format: Format of every file; taken from each file's extension when omitted.
        cursor_column: Column ordering rows inside a file; defaults to updated/created.
        encoding: Text encoding of CSV/TSV/JSONL files, or "auto".
        storage_options: Non-secret fsspec options (``endpoint_url``, ``anon``, ``profile``,
            ``requester_pays``, ...); keys that name credentials are refused.
    """

    url: str = Field(min_length=1)
    format: FileFormat | None = None
    cursor_column: str | None = None
    encoding: str = "auto"
    storage_options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("storage_options")
    @classmethod
    def _no_secrets(cls, value: dict[str, Any]) -> dict[str, Any]:
        secret = sorted(k for k in value if _SECRET_OPTION.search(k))
        if secret:
            raise ValueError(
                f"storage_options {secret} look like credentials: config files never hold "
                "secrets; use the backend's environment variables (AWS_ACCESS_KEY_ID, "
                "GOOGLE_APPLICATION_CREDENTIALS, ...) or an instance role"
            )
        return value
