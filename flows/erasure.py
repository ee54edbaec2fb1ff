"""Erasure on the Prefect side: artifacts of past runs that quote a forgotten customer.

Report artifacts (markdown report, pain-point table) hold quotes; Prefect keeps every version
in its database. ``vocflow forget`` calls this after the store is erased and the report is
regenerated, so that no earlier version still shows the erased texts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

from vocflow.erasure import quote_needles


def delete_artifacts_quoting(snippets: Iterable[str], key_prefix: str = "vocflow") -> int:
    """Deletes vocflow artifacts whose content contains any of the snippets.

    Args:
        snippets: Leading characters of the erased items' redacted texts.
        key_prefix: Only artifacts whose key starts with this are looked at.

    Returns:
        How many artifacts were deleted.
    """
    from prefect.client.orchestration import get_client

    needles = quote_needles(snippets)
    if not needles:
        return 0
    with get_client(sync_client=True) as client:
        found, offset = [], 0
        while True:
            page = client.read_artifacts(limit=200, offset=offset)
            found += page
            offset += len(page)
            if len(page) < 200:
                break
        doomed = [
            artifact.id
            for artifact in found
            if (artifact.key or "").startswith(key_prefix)
            and any(n in _as_text(artifact.data) for n in needles)
        ]
        for artifact_id in doomed:
            client.delete_artifact(artifact_id)
    return len(doomed)


def _as_text(data: object) -> str:
    return data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, default=str)
