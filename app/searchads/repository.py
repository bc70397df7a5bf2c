"""All SQL of the Apple Ads domain (credentials, ad accounts, campaigns, daily rows)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, text, tuple_, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.asc.searchads.parsing import AdAccountInfo, AdGroupInfo, CampaignInfo, ReportLine
from app.errors import NotFound
from app.kit import cursors
from app.kit.pagination import PageRequest
from app.models import (
    SearchAdsAccount,
    SearchAdsAdGroup,
    SearchAdsCampaign,
    SearchAdsCredential,
    SearchAdsDaily,
    SearchAdsDay,
)

APP_STORE_FEATURE = "APPSTORE_APP_MANUAL"


def is_app_store(account: SearchAdsAccount) -> bool:
    features = account.product_features or []
    return not features or any(f.startswith("APPSTORE") for f in features)


async def live_client_exists(
    session: AsyncSession, workspace_id: uuid.UUID, client_id: str
) -> bool:
    found = await session.scalar(
        select(SearchAdsCredential.id).where(
            SearchAdsCredential.workspace_id == workspace_id,
            SearchAdsCredential.client_id == client_id,
            SearchAdsCredential.unlinked_at.is_(None),
        )
    )
    return found is not None


async def get_credential(
    session: AsyncSession,
    workspace_id: uuid.UUID,
    credential_id: uuid.UUID,
    *,
    for_update: bool = False,
) -> SearchAdsCredential:
    query = select(SearchAdsCredential).where(
        SearchAdsCredential.id == credential_id,
        SearchAdsCredential.workspace_id == workspace_id,
        SearchAdsCredential.unlinked_at.is_(None),
    )
    if for_update:
        query = query.with_for_update()
    found = (await session.scalars(query)).one_or_none()
    if found is None:
        raise NotFound(f"no Search Ads account with id {credential_id}")
    return found


async def list_credentials(
    session: AsyncSession, workspace_id: uuid.UUID, paging: PageRequest
) -> tuple[list[SearchAdsCredential], str | None]:
    after = paging.after(cursors.moment, cursors.UUID)
    query = select(SearchAdsCredential).where(
        SearchAdsCredential.workspace_id == workspace_id,
        SearchAdsCredential.unlinked_at.is_(None),
    )
    if after is not None:
        query = query.where(
            tuple_(SearchAdsCredential.created_at, SearchAdsCredential.id) > tuple_(*after)
        )
    query = query.order_by(SearchAdsCredential.created_at, SearchAdsCredential.id).limit(
        paging.fetch
    )
    rows = list(await session.scalars(query))
    return paging.split(rows, lambda c: [c.created_at.isoformat(), str(c.id)])


async def accounts_of(
    session: AsyncSession, credential_ids: Sequence[uuid.UUID]
) -> list[SearchAdsAccount]:
    if not credential_ids:
        return []
    query = (
        select(SearchAdsAccount)
        .where(SearchAdsAccount.credential_id.in_(credential_ids))
        .order_by(SearchAdsAccount.ad_account_id)
    )
    return list(await session.scalars(query))


async def store_ad_accounts(
    session: AsyncSession,
    credential: SearchAdsCredential,
    infos: Sequence[AdAccountInfo],
    chosen: set[int] | None,
) -> None:
    """Upsert what ``/acls`` listed; accounts no longer listed stay (their data keeps its
    owner) but are marked invisible. ``chosen`` (None: keep choices; new App Store accounts
    start syncing) sets ``sync_enabled``."""
    existing = {a.ad_account_id: a for a in await accounts_of(session, [credential.id])}
    listed = {info.ad_account_id for info in infos}
    for info in infos:
        row = existing.get(info.ad_account_id)
        if row is None:
            row = SearchAdsAccount(
                id=uuid.uuid4(),
                credential_id=credential.id,
                workspace_id=credential.workspace_id,
                ad_account_id=info.ad_account_id,
            )
            session.add(row)
            row.product_features = list(info.product_features)
            row.sync_enabled = chosen is None and is_app_store(row)
        row.org_id = info.org_id
        row.name = info.name[:255]
        row.currency = info.currency
        row.time_zone = info.time_zone
        row.roles = list(info.roles)
        row.product_features = list(info.product_features)
        row.visible = True
        if chosen is not None:
            row.sync_enabled = info.ad_account_id in chosen and is_app_store(row)
    for ad_account_id, row in existing.items():
        if ad_account_id not in listed:
            row.visible = False
    await session.flush()


async def set_sync_choice(
    session: AsyncSession, credential: SearchAdsCredential, chosen: set[int]
) -> None:
    for row in await accounts_of(session, [credential.id]):
        row.sync_enabled = row.ad_account_id in chosen and is_app_store(row)
    await session.flush()


async def purge_unlinked(session: AsyncSession, credential: SearchAdsCredential) -> None:
    await session.execute(
        update(SearchAdsAccount)
        .where(SearchAdsAccount.credential_id == credential.id)
        .values(sync_enabled=False)
    )


# --- sync ---------------------------------------------------------------------------------


async def syncable_accounts(session: AsyncSession) -> list[tuple[SearchAdsAccount, str]]:
    """Every ad account chosen for syncing whose credential is usable, with its status."""
    query = (
        select(SearchAdsAccount, SearchAdsCredential.credential_status)
        .join(SearchAdsCredential, SearchAdsCredential.id == SearchAdsAccount.credential_id)
        .where(
            SearchAdsAccount.sync_enabled.is_(True),
            SearchAdsAccount.visible.is_(True),
            SearchAdsCredential.unlinked_at.is_(None),
            SearchAdsCredential.credential_status.in_(["active", "unverified"]),
        )
        .order_by(SearchAdsAccount.id)
    )
    return [(row[0], row[1]) for row in (await session.execute(query)).all()]


async def account_with_credential(
    session: AsyncSession, account_id: uuid.UUID
) -> tuple[SearchAdsAccount, SearchAdsCredential] | None:
    row = (
        await session.execute(
            select(SearchAdsAccount, SearchAdsCredential)
            .join(SearchAdsCredential, SearchAdsCredential.id == SearchAdsAccount.credential_id)
            .where(SearchAdsAccount.id == account_id)
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


async def store_campaigns(
    session: AsyncSession,
    account: SearchAdsAccount,
    campaigns: Sequence[CampaignInfo],
    groups: Sequence[AdGroupInfo],
    now: dt.datetime,
) -> None:
    """Replace the account's campaign and ad group snapshot; campaigns join Orchard's apps of
    the same workspace by Apple id (``adamId``)."""
    await session.execute(
        delete(SearchAdsCampaign).where(SearchAdsCampaign.account_id == account.id)
    )
    await session.execute(delete(SearchAdsAdGroup).where(SearchAdsAdGroup.account_id == account.id))
    if campaigns:
        await session.execute(
            insert(SearchAdsCampaign),
            [
                {
                    "id": uuid.uuid4(),
                    "account_id": account.id,
                    "workspace_id": account.workspace_id,
                    "campaign_id": c.campaign_id,
                    "name": c.name[:255],
                    "adam_id": c.adam_id,
                    "status": c.status,
                    "display_status": c.display_status,
                    "serving_status": c.serving_status,
                    "daily_budget": c.daily_budget,
                    "currency": c.currency or account.currency,
                    "countries": list(c.countries),
                    "start_time": c.start_time,
                    "end_time": c.end_time,
                    "deleted": c.deleted,
                    "synced_at": now,
                }
                for c in campaigns
            ],
        )
    if groups:
        await session.execute(
            insert(SearchAdsAdGroup),
            [
                {
                    "id": uuid.uuid4(),
                    "account_id": account.id,
                    "workspace_id": account.workspace_id,
                    "campaign_id": g.campaign_id,
                    "ad_group_id": g.ad_group_id,
                    "name": g.name[:255],
                    "status": g.status,
                    "display_status": g.display_status,
                    "pricing_model": g.pricing_model,
                    "default_bid": g.default_bid,
                    "deleted": g.deleted,
                    "synced_at": now,
                }
                for g in groups
            ],
        )
    await link_apps(session, account.workspace_id)
    await session.execute(
        update(SearchAdsAccount)
        .where(SearchAdsAccount.id == account.id)
        .values(campaigns_synced_at=now)
    )


async def link_apps(session: AsyncSession, workspace_id: uuid.UUID) -> None:
    """Point campaigns at Orchard's app with their ``adamId`` (an app listed by a live linked
    App Store Connect account of the workspace); others keep ``app_id`` null."""
    await session.execute(
        text(
            """
            UPDATE searchads_campaigns c
            SET app_id = (
                SELECT a.id FROM apps a JOIN asc_accounts s ON s.id = a.account_id
                WHERE a.workspace_id = c.workspace_id AND a.apple_id = c.adam_id::text
                  AND a.removed_at IS NULL AND s.unlinked_at IS NULL
                ORDER BY a.first_seen_at, a.id LIMIT 1)
            WHERE c.workspace_id = :workspace
            """
        ),
        {"workspace": workspace_id},
    )


async def campaign_ids(session: AsyncSession, account_id: uuid.UUID) -> list[int]:
    query = select(SearchAdsCampaign.campaign_id).where(
        SearchAdsCampaign.account_id == account_id,
        SearchAdsCampaign.adam_id.is_not(None),
    )
    return sorted(await session.scalars(query))


async def replace_days(
    session: AsyncSession,
    account: SearchAdsAccount,
    level: str,
    start: dt.date,
    end: dt.date,
    lines: Sequence[ReportLine],
    now: dt.datetime,
) -> int:
    """Replace every (level, day) of ``start..end`` atomically with ``lines`` and mark the
    days fetched (in the caller's transaction)."""
    await session.execute(
        delete(SearchAdsDaily).where(
            SearchAdsDaily.account_id == account.id,
            SearchAdsDaily.level == level,
            SearchAdsDaily.report_date.between(start, end),
        )
    )
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    for line in lines:
        key = (
            line.report_date,
            line.campaign_id,
            line.ad_group_id,
            line.keyword_id,
            line.country,
            line.search_term,
        )
        row = merged.get(key)
        if row is None:
            row = merged[key] = {
                "account_id": account.id,
                "workspace_id": account.workspace_id,
                "level": level,
                "report_date": line.report_date,
                "campaign_id": line.campaign_id,
                "ad_group_id": line.ad_group_id,
                "keyword_id": line.keyword_id,
                "country": line.country[:8],
                "search_term": line.search_term,
                "keyword_text": (line.name or "")[:255] or None
                if level in ("keyword", "search_term")
                else None,
                "currency": line.currency or account.currency or "",
                "spend": 0,
                **dict.fromkeys(_COUNT_COLUMNS.values(), 0),
            }
        row["spend"] += line.spend
        for metric, column in _COUNT_COLUMNS.items():
            row[column] += line.counts.get(metric, 0)
    rows = list(merged.values())
    for chunk in range(0, len(rows), 2000):
        await session.execute(insert(SearchAdsDaily), rows[chunk : chunk + 2000])
    days = [start + dt.timedelta(days=i) for i in range((end - start).days + 1)]
    counts: dict[dt.date, int] = {}
    for row in rows:
        counts[row["report_date"]] = counts.get(row["report_date"], 0) + 1
    statement = insert(SearchAdsDay).values(
        [
            {
                "account_id": account.id,
                "level": level,
                "report_date": day,
                "fetched_at": now,
                "rows": counts.get(day, 0),
            }
            for day in days
        ]
    )
    await session.execute(
        statement.on_conflict_do_update(
            index_elements=["account_id", "level", "report_date"],
            set_={"fetched_at": statement.excluded.fetched_at, "rows": statement.excluded.rows},
        )
    )
    return len(rows)


async def fetched_days(
    session: AsyncSession, account_id: uuid.UUID, level: str, start: dt.date, end: dt.date
) -> dict[dt.date, dt.datetime]:
    query = select(SearchAdsDay.report_date, SearchAdsDay.fetched_at).where(
        SearchAdsDay.account_id == account_id,
        SearchAdsDay.level == level,
        SearchAdsDay.report_date.between(start, end),
    )
    return {row[0]: row[1] for row in (await session.execute(query)).all()}


_COUNT_COLUMNS = {
    "impressions": "impressions",
    "taps": "taps",
    "tapInstalls": "tap_installs",
    "viewInstalls": "view_installs",
    "totalInstalls": "total_installs",
    "tapNewDownloads": "tap_new_downloads",
    "tapRedownloads": "tap_redownloads",
    "viewNewDownloads": "view_new_downloads",
    "viewRedownloads": "view_redownloads",
    "totalNewDownloads": "total_new_downloads",
    "totalRedownloads": "total_redownloads",
}


async def all_with_keys(session: AsyncSession) -> list[SearchAdsCredential]:
    query = select(SearchAdsCredential).where(
        SearchAdsCredential.encrypted_private_key.is_not(None)
    )
    return list(await session.scalars(query.with_for_update()))


def workspace_sources(workspace_id: uuid.UUID, level: str | None) -> tuple[str, dict[str, Any]]:
    """A query (SQL and parameters) of (ad account id, credential status, reason, last fetched)
    of the workspace's syncing ad accounts: campaigns' snapshot time, or the newest fetch of a
    report level. Sync-status runs it together with the other public datasets' sources."""
    sql = """
        SELECT a.ad_account_id, s.credential_status, s.status_reason,
               CASE WHEN CAST(:level AS text) IS NULL THEN a.campaigns_synced_at
                    ELSE (SELECT max(f.fetched_at) FROM searchads_days f
                          WHERE f.account_id = a.id AND f.level = :level) END
        FROM searchads_accounts a
        JOIN searchads_credentials s ON s.id = a.credential_id AND s.unlinked_at IS NULL
        WHERE a.workspace_id = :workspace AND a.sync_enabled AND a.visible
    """
    return sql, {"workspace": workspace_id, "level": level}
