"""Cheap message fingerprints: the same message with different numbers and ids is one message.

Used for deduplication and grouping where full template mining would be overkill.
"""

from __future__ import annotations

import re

from analyzer.infra.privacy import mask_secrets

_VARIABLE = re.compile(
    r"""
    [0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}  # uuid
    | \b(?:\d{1,3}\.){3}\d{1,3}(?::\d+)?\b                                       # ipv4[:port]
    | \b0x[0-9a-fA-F]+\b                                                          # hex literal
    | \b[0-9a-fA-F]{12,}\b                                                        # long hex id
    | \b[A-Za-z]+[-_][0-9a-fA-F]{6,}\b                                            # prefixed id
    | -?\d+(?:\.\d+)?(?:ms|s|m|h|KB|MB|GB|B|%)?                                   # numbers
    """,
    re.VERBOSE,
)


def fingerprint(message: str) -> str:
    """Credentials and addresses are masked first, so none is cut into fragments."""
    return _VARIABLE.sub("<*>", mask_secrets(message.strip()))[:300]
