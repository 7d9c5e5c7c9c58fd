"""A speed fix for Rasa 3.6, installed by ``bot/tracker_store.py`` in every Rasa worker.

``RemoteAction._validate_action_result`` checks each action server answer with
``jsonschema.validate``, which first checks Rasa's (large, fixed) response schema against the
JSON Schema meta-schema, on every call: about 40 ms of CPU per custom action, most of a bot
turn's CPU in Rasa (measured by ``bench/message_path.py``). The replacement checks the schema
once per process and validates every answer against it as before: an invalid answer raises the
same best-matching ``ValidationError`` with Rasa's message.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import ValidationError, exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@cache
def _response_validator() -> Any:
    spec = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(spec)
    cls.check_schema(spec)
    return cls(spec)


def validate_action_result(_action: Any, result: dict[str, Any]) -> bool:
    error: ValidationError | None = exceptions.best_match(_response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        f"For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def install() -> None:
    RemoteAction._validate_action_result = validate_action_result
