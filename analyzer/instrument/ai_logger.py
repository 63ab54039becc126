"""`AIOperationLogger`: one log line per AI call with the fields the analyzer accounts on.

The prompt is logged as a short sha256 hash (enough to spot repeats, useless to a reader);
its text only when `include_prompt_text=True` is passed explicitly.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from analyzer.instrument.context import get_correlation_id

HASH_CHARS = 16


def prompt_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:HASH_CHARS]


class AIOperationLogger:
    def __init__(
        self,
        service: str,
        *,
        logger: logging.Logger | None = None,
        include_prompt_text: bool = False,
    ) -> None:
        self.service = service
        self.logger = logger or logging.getLogger(f"{service}.ai")
        self.include_prompt_text = include_prompt_text

    def log_ai_request(
        self,
        *,
        model: str,
        request_type: str = "chat",
        prompt: str | None = None,
        response: str | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        tokens_used: int | None = None,
        duration: float | None = None,
        success: bool = True,
        conversation_id: str | None = None,
        session_id: str | None = None,
        workspace_id: str | None = None,
        user_id: str | None = None,
        error_type: str | None = None,
        status_code: int | None = None,
        message: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """Log the call and return the fields that were logged (for tests and callers)."""
        if tokens_used is None and prompt_tokens is not None and completion_tokens is not None:
            tokens_used = prompt_tokens + completion_tokens
        fields: dict[str, Any] = {
            "correlation_id": get_correlation_id(),
            "conversation_id": conversation_id,
            "session_id": session_id,
            "workspace_id": workspace_id,
            "user_id": user_id,
            "model": model,
            "request_type": request_type,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "tokens_used": tokens_used,
            "duration": round(duration, 3) if duration is not None else None,
            "success": success,
            "error_type": error_type,
            "status_code": status_code,
        }
        if prompt is not None:
            fields["prompt_hash"] = prompt_hash(prompt)
            if self.include_prompt_text:
                fields["prompt"] = prompt
        if response is not None:
            fields["response_hash"] = prompt_hash(response)
            if self.include_prompt_text:
                fields["response"] = response
        fields.update(extra)
        fields = {k: v for k, v in fields.items() if v is not None}
        text = message or (
            f"{request_type} {'completed' if success else 'failed'} model={model}"
            + (f" tokens={tokens_used}" if tokens_used is not None else "")
        )
        self.logger.log(logging.INFO if success else logging.ERROR, text, extra=fields)
        return fields
