"""Customer reviews (and developer responses) of generated apps, plus their endpoint.

Reviews live on an absolute timeline: each 30-day block of an app draws its reviews from
its own seeded RNG, so ids, texts and dates are stable and new reviews appear as the clock
moves on. Only the last :data:`REVIEW_HISTORY_DAYS` days are served. Ratings skew positive;
texts are in the language of the reviewer's storefront (Latin and non-Latin scripts).
A response becomes visible when written (a few hours to days after the review) and is
``PENDING_PUBLISH`` for its first 12 hours (the team's ``reply_publish_hours`` option, see
:mod:`.fidelity`), ``PUBLISHED`` afterwards. A few reviews are
edited by their author days later (same id and ``createdDate``, new rating and text).

What the API and tests change on top of that timeline (replies written or deleted, edits,
removals, a busier app) is kept in :mod:`app.sandbox.review_ledger`; :func:`visible_reviews`
is the merged view every endpoint serves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from starlette.responses import JSONResponse, Response

from app.sandbox.catalog import SandboxApp, find_app, team_apps
from app.sandbox.catalog_routes import apple_datetime
from app.sandbox.context import V1Context, V1Route
from app.sandbox.errors import invalid_value, resource_not_found
from app.sandbox.jsonapi import (
    Included,
    ParamSpec,
    Resource,
    collection_document,
    make_resource,
    paginate,
    relationship_links,
    words,
)
from app.sandbox.markets import COUNTRIES, COUNTRY_BY_ALPHA3, COUNTRY_WEIGHTS
from app.sandbox.permissions import ANY_ROLE
from app.sandbox.review_ledger import ReviewEdit, ReviewResponse, ledger
from app.sandbox.seeding import poisson, rng, stable_uuid
from app.sandbox.state import SandboxState, SandboxTeam
from app.sandbox.text import NICKNAME_PARTS, RESPONSES, REVIEWS

REVIEW_HISTORY_DAYS = 400
BLOCK_DAYS = 30
PENDING_PUBLISH = timedelta(hours=12)
EDIT_CHANCE = 0.04
_RATINGS = (1, 2, 3, 4, 5)
_RATING_WEIGHTS = (11, 5, 8, 19, 57)

__all__ = ["Review", "ReviewEdit", "ReviewResponse", "app_reviews", "visible_reviews"]


@dataclass(frozen=True, slots=True)
class Review:
    id: str
    rating: int
    title: str
    body: str
    nickname: str
    created: datetime
    territory: str  # ISO 3166 alpha-3
    response: ReviewResponse | None
    edit: ReviewEdit | None = None  # a later rewrite by the customer

    def response_at(self, now: datetime) -> ReviewResponse | None:
        if self.response is None or self.response.last_modified > now:
            return None
        return self.response

    def as_of(self, now: datetime) -> Review:
        """The review as served at ``now``: an edit that happened replaces rating and text."""
        if self.edit is None or self.edit.at > now:
            return self
        edit = self.edit
        return replace(self, rating=edit.rating, title=edit.title, body=edit.body, edit=None)

    def is_published(self, now: datetime, pending_for: timedelta = PENDING_PUBLISH) -> bool:
        """Whether the developer response is public (``exists[publishedResponse]``)."""
        response = self.response_at(now)
        return response is not None and now - response.last_modified >= pending_for


def _sentiment(rating: int) -> str:
    return "positive" if rating >= 4 else "neutral" if rating == 3 else "negative"


def app_reviews(
    team: SandboxTeam, app: SandboxApp, now: datetime, *, volume: float = 1.0
) -> list[Review]:
    """Generated reviews of ``app`` created in the last 400 days up to ``now``, oldest first.

    ``volume`` scales the review rate; each review is drawn from its own generator, so a
    higher volume adds reviews without changing the others.
    """
    first = max(
        datetime.combine(app.launch_date, datetime.min.time(), UTC),
        now - timedelta(days=REVIEW_HISTORY_DAYS),
    )
    rate = 0.15 * app.popularity * BLOCK_DAYS * volume
    reviews: list[Review] = []
    for block in range(
        first.date().toordinal() // BLOCK_DAYS, now.date().toordinal() // BLOCK_DAYS + 1
    ):
        r = rng(team.seed, "reviews", app.id, block)
        start = datetime.fromordinal(block * BLOCK_DAYS).replace(tzinfo=UTC)
        drawn = [_draw_review(team, app, block, i, start) for i in range(poisson(r, rate))]
        reviews.extend(rv for rv in drawn if first <= rv.created <= now)
    reviews.sort(key=lambda rv: rv.created)
    return reviews


def _draw_review(
    team: SandboxTeam, app: SandboxApp, block: int, index: int, start: datetime
) -> Review:
    gen = rng(team.seed, "review", app.id, block, index)
    created = start + timedelta(seconds=gen.randrange(BLOCK_DAYS * 86400))
    rating = gen.choices(_RATINGS, _RATING_WEIGHTS)[0]
    country = gen.choices(COUNTRIES, COUNTRY_WEIGHTS)[0]
    language = country.language if country.language in REVIEWS else "en"
    sentiment = _sentiment(rating)
    title, body = gen.choice(REVIEWS[language][sentiment])
    nickname = gen.choice(NICKNAME_PARTS[language])
    if gen.random() < 0.5:
        nickname = f"{nickname}{gen.randrange(10, 999)}"
    review_id = stable_uuid(team.seed, "review", app.id, block, index)
    response = None
    chance = {"positive": 0.15, "neutral": 0.3, "negative": 0.6}[sentiment]
    if gen.random() < chance:
        written = created + timedelta(seconds=gen.randrange(2 * 3600, 5 * 86400))
        response = ReviewResponse(
            id=stable_uuid(team.seed, "response", review_id),
            body=RESPONSES[sentiment].format(app=app.name, domain=f"{team.slug}.example.com"),
            last_modified=written,
        )
    # Drawn last so that adding edits left every earlier draw (and review) as it was.
    edit = None
    if gen.random() < EDIT_CHANCE:
        new_rating = gen.choices(_RATINGS, _RATING_WEIGHTS)[0]
        new_title, new_body = gen.choice(REVIEWS[language][_sentiment(new_rating)])
        edit = ReviewEdit(
            at=created + timedelta(seconds=gen.randrange(86400, 20 * 86400)),
            rating=new_rating,
            title=new_title.format(app=app.name),
            body=new_body.format(app=app.name),
        )
    return Review(
        id=review_id,
        rating=rating,
        title=title.format(app=app.name),
        body=body.format(app=app.name),
        nickname=nickname,
        created=created,
        territory=country.alpha3,
        response=response,
        edit=edit,
    )


def visible_reviews(
    state: SandboxState, team: SandboxTeam, app: SandboxApp, now: datetime
) -> list[Review]:
    """What App Store Connect lists for ``app`` at ``now``: the generated timeline with the
    ledger applied (edits as of ``now``, removed reviews dropped, written replies), oldest
    first. Returned reviews have no pending ``edit`` left."""
    changes = ledger(state)
    served: list[Review] = []
    for review in app_reviews(team, app, now, volume=changes.volume):
        if review.id in changes.removed:
            continue
        review = review.as_of(now)
        edit = changes.edits.get(review.id)
        if edit is not None and edit.at <= now:
            review = replace(review, rating=edit.rating, title=edit.title, body=edit.body)
        if review.id in changes.responses:
            review = replace(review, response=changes.responses[review.id])
        served.append(replace(review, edit=None))
    return served


def find_review(
    state: SandboxState, team: SandboxTeam, review_id: str, now: datetime
) -> tuple[SandboxApp, Review] | None:
    """The served review ``review_id`` of any of ``team``'s apps."""
    for app in team_apps(team):
        for review in visible_reviews(state, team, app, now):
            if review.id == review_id:
                return app, review
    return None


# --- endpoint ----------------------------------------------------------------------------

REVIEWS_PARAMS = ParamSpec(
    names=words(
        "filter[territory] filter[rating] filter[reviewTerritory] exists[publishedResponse] "
        "sort include"
    ),
    fields={
        "customerReviews": words(
            "rating title body reviewerNickname createdDate territory response reviewTerritory"
        ),
        "customerReviewResponses": words("responseBody lastModifiedDate state review"),
        "territories": words("currency"),
    },
    enums={
        "sort": words("rating -rating createdDate -createdDate"),
        "include": words("response reviewTerritory"),
        "filter[rating]": words("1 2 3 4 5"),
        "exists[publishedResponse]": words("true false"),
    },
    paged=True,
)


def reply_delay(ctx: V1Context) -> timedelta:
    """How long the team's responses stay ``PENDING_PUBLISH`` (FACTS §4.4: not instant)."""
    return ctx.state.fidelity.for_team(ctx.team.name).reply_publish_delay


def response_resource(
    base_url: str,
    review: Review,
    response: ReviewResponse,
    now: datetime,
    fields: set[str] | None,
    pending_for: timedelta = PENDING_PUBLISH,
) -> Resource:
    pending = now - response.last_modified < pending_for
    return make_resource(
        base_url=base_url,
        resource_type="customerReviewResponses",
        resource_id=response.id,
        attributes={
            "responseBody": response.body,
            "lastModifiedDate": apple_datetime(response.last_modified),
            "state": "PENDING_PUBLISH" if pending else "PUBLISHED",
        },
        relationships={"review": {"data": {"type": "customerReviews", "id": review.id}}},
        fields=fields,
    )


def review_resource(ctx: V1Context, review: Review, included: Included) -> Resource:
    q, base, now = ctx.query, ctx.base_url, ctx.now
    includes = q.includes()
    relationships: dict[str, Resource] = {
        "response": {"links": relationship_links(base, "customerReviews", review.id, "response")}
    }
    response = review.response_at(now)
    if "response" in includes and response is not None:
        fields = q.fields("customerReviewResponses")
        relationships["response"]["data"] = included.add(
            response_resource(base, review, response, now, fields, reply_delay(ctx))
        )
    if "reviewTerritory" in includes:
        country = COUNTRY_BY_ALPHA3[review.territory]
        territory = make_resource(
            base_url=base,
            resource_type="territories",
            resource_id=review.territory,
            attributes={"currency": country.currency},
            fields=q.fields("territories"),
        )
        relationships["reviewTerritory"] = {"data": included.add(territory)}
    return make_resource(
        base_url=base,
        resource_type="customerReviews",
        resource_id=review.id,
        attributes={
            "rating": review.rating,
            "title": review.title,
            "body": review.body,
            "reviewerNickname": review.nickname,
            "createdDate": apple_datetime(review.created),
            "territory": review.territory,
        },
        relationships=relationships,
        fields=q.fields("customerReviews"),
    )


async def list_app_reviews(ctx: V1Context) -> Response:
    app_id = ctx.path_params["id"]
    app = find_app(ctx.team, app_id)
    if app is None:
        raise resource_not_found("apps", app_id)
    q, now = ctx.query, ctx.now
    territories = q.value_set("filter[territory]")
    review_territories = q.value_set("filter[reviewTerritory]")
    if review_territories is not None:
        territories = (
            review_territories if territories is None else territories & review_territories
        )
    for code in territories or ():
        if not re.fullmatch(r"[A-Z]{3}", code):
            raise invalid_value("filter[territory]", code)
    ratings = {int(v) for v in q.value_set("filter[rating]") or ()} or None
    published = q.first("exists[publishedResponse]")
    delay = reply_delay(ctx)

    def keep(review: Review) -> bool:
        if ratings is not None and review.rating not in ratings:
            return False
        if territories is not None and review.territory not in territories:
            return False
        if published is not None:
            return review.is_published(now, delay) == (published == "true")
        return True

    reviews = [rv for rv in visible_reviews(ctx.state, ctx.team, app, now) if keep(rv)]
    sort = q.sort("-createdDate")
    if sort.lstrip("-") == "rating":
        reviews.sort(key=lambda rv: (rv.rating, rv.created, rv.id), reverse=sort[0] == "-")
    else:
        reviews.sort(key=lambda rv: (rv.created, rv.id), reverse=sort[0] == "-")
    page = paginate(reviews, base_url=ctx.base_url, path=ctx.path, query=q)
    included = Included()
    data = [review_resource(ctx, review, included) for review in page.items]
    return JSONResponse(collection_document(data, page, ctx.self_url, included))


ROUTES = [
    V1Route("GET", "/v1/apps/{id}/customerReviews", list_app_reviews, ANY_ROLE, REVIEWS_PARAMS),
]
