"""The base of every model a TOML file is validated into.

Closed (an unknown key is a problem, never ignored: a typo cannot fall back to a default) and
strict (no coercion: ``slot = "1"`` is a string, not slot 1, and ``true`` is not 1).
"""

from __future__ import annotations

from typing import Annotated, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict, Strict

T = TypeVar("T")

#: An enum field that takes the value as written (``mode = "slow"``): strict mode wants the
#: enum member itself, which TOML cannot write. Only the enum's values pass; ``1`` does not.
Lax = Annotated[T, Strict(False)]


class Closed(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    #: what an unknown key of this table is called in errors (None: the file's own word)
    toml_key_noun: ClassVar[str | None] = None
