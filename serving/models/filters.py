"""The /models listing's query: filters, sort order and LIKE escaping (pure)."""

from dataclasses import dataclass
from enum import StrEnum


class Sort(StrEnum):
    """Sort key; a leading `-` sorts descending. Ties break on id; missing values sort last."""

    downloads = "downloads"
    downloads_desc = "-downloads"
    likes = "likes"
    likes_desc = "-likes"
    last_modified = "last_modified"
    last_modified_desc = "-last_modified"
    id = "id"
    id_desc = "-id"

    @property
    def field(self) -> str:
        return self.value.removeprefix("-")

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")


@dataclass(frozen=True)
class ModelFilters:
    task: str | None = None
    author: str | None = None
    license: str | None = None
    min_params: int | None = None
    max_params: int | None = None
    q: str | None = None
    include_removed: bool = False
    sort: Sort = Sort.downloads_desc
    limit: int = 50
    offset: int = 0


LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (escape character: backslash)."""
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def contains_pattern(text: str) -> str:
    return f"%{escape_like(text)}%"
