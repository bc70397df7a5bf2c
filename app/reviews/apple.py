"""App Store Connect's customer review documents, read into plain records (and back).

Attributes are read defensively: Apple adds fields and enum values, and a review whose
rating or date cannot be read is skipped (and counted) rather than failing the whole app.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from app.asc.jsonapi import Document, Resource, ResourceKey
from app.reviews.territories import alpha2

REVIEW_RESPONSES_PATH = "/v1/customerReviewResponses"


def reviews_path(app_apple_id: str) -> str:
    return f"/v1/apps/{app_apple_id}/customerReviews"


def review_response_path(review_apple_id: str) -> str:
    """``GET`` a review's response (404 when it has none)."""
    return f"/v1/customerReviews/{review_apple_id}/response"


@dataclass(frozen=True)
class ReplyRecord:
    apple_id: str
    body: str
    state: str
    last_modified_at: dt.datetime


@dataclass(frozen=True)
class ReviewRecord:
    apple_id: str
    rating: int
    title: str | None
    body: str | None
    reviewer_nickname: str | None
    territory: str
    country_code: str | None
    created_at: dt.datetime
    reply: ReplyRecord | None


def parse_datetime(value: Any) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    # Apple sends Pacific offsets; Orchard answers in UTC everywhere.
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=dt.UTC)
    return parsed.astimezone(dt.UTC)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def parse_reply(resource: Resource) -> ReplyRecord | None:
    attributes = resource.attributes
    body = _text(attributes.get("responseBody"))
    modified = parse_datetime(attributes.get("lastModifiedDate"))
    if body is None or modified is None:
        return None
    state = _text(attributes.get("state")) or "PENDING_PUBLISH"
    return ReplyRecord(apple_id=resource.id, body=body, state=state, last_modified_at=modified)


def parse_review(
    document: Document, resource: Resource, index: dict[ResourceKey, Resource]
) -> ReviewRecord | None:
    """One ``customerReviews`` resource with its included response; None if unreadable."""
    attributes = resource.attributes
    rating = attributes.get("rating")
    created = parse_datetime(attributes.get("createdDate"))
    territory = _text(attributes.get("territory"))
    if not isinstance(rating, int) or not 1 <= rating <= 5 or created is None or not territory:
        return None
    related = document.related(resource, "response", index)
    reply = parse_reply(related) if isinstance(related, Resource) else None
    return ReviewRecord(
        apple_id=resource.id,
        rating=rating,
        title=_text(attributes.get("title")),
        body=_text(attributes.get("body")),
        reviewer_nickname=_text(attributes.get("reviewerNickname")),
        territory=territory.upper(),
        country_code=alpha2(territory),
        created_at=created,
        reply=reply,
    )


def parse_page(document: Document) -> tuple[list[ReviewRecord], int]:
    """The readable reviews of one page, and how many were skipped."""
    index = document.included_index()
    records: list[ReviewRecord] = []
    skipped = 0
    for resource in document.resources():
        if resource.type != "customerReviews":
            continue
        record = parse_review(document, resource, index)
        if record is None:
            skipped += 1
        else:
            records.append(record)
    return records, skipped


def reply_request(review_apple_id: str, body: str) -> dict[str, Any]:
    """A ``CustomerReviewResponseV1CreateRequest``."""
    return {
        "data": {
            "type": "customerReviewResponses",
            "attributes": {"responseBody": body},
            "relationships": {
                "review": {"data": {"type": "customerReviews", "id": review_apple_id}}
            },
        }
    }
