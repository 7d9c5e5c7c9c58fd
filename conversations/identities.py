"""One customer across channels: link (merge) customers, and find them by phone or member id.

Phone numbers and member ids are stored as ``ChannelIdentity`` rows on pseudo-channels
``phone`` and ``member`` (``channel_user_id`` = the normalised value). The existing unique
``(channel, channel_user_id)`` constraint then guarantees that one phone or member id belongs to
at most one customer, with no schema change, and moving identities on a merge moves them too.

A merge keeps customer *a* and empties *b*: b's identities, conversations and tickets move to
a, a keeps the higher tier, and an ``IdentityMerge`` row records who merged what and why. The
row of b stays (the audit points at it); ``resolve`` follows merges to the live customer.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from conversations.tables import ChannelIdentity, Conversation, Customer, IdentityMerge
from core.errors import Conflict, NotFound, ValidationFailed
from tickets.tables import Ticket

PHONE = "phone"
MEMBER = "member"
KINDS = (PHONE, MEMBER)
TIER_RANK = {"S": 0, "A": 1, "normal": 2}  # lower is higher; unknown tiers count as normal
MAX_CHAIN = 32  # merges followed by resolve; a longer chain means corrupt audit rows

_PHONE_SEPARATORS = re.compile(r"[\s()-]")
_PHONE = re.compile(r"^\+?[0-9]{3,20}$")
_MEMBER = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def normalize_phone(raw: str) -> str:
    """Digits (with a leading ``+`` for non-Chinese numbers); ``+86``/``0086`` is dropped."""
    phone = _PHONE_SEPARATORS.sub("", raw)
    for prefix in ("+86", "0086"):
        if phone.startswith(prefix) and len(phone) > len(prefix) + 6:
            phone = phone.removeprefix(prefix)
    if not _PHONE.match(phone):
        raise ValidationFailed("phone must be a phone number", code="invalid_phone")
    return phone


def normalize(kind: str, value: str) -> str:
    if kind == PHONE:
        return normalize_phone(value)
    if kind == MEMBER:
        if not _MEMBER.match(value):
            raise ValidationFailed("member_id must be 1-64 of A-Z a-z 0-9 _ -", code="invalid_member_id")
        return value
    raise ValidationFailed(f"unknown identity kind {kind!r}", code="invalid_identity_kind")


def higher_tier(a: str, b: str) -> str:
    return a if TIER_RANK.get(a, 2) <= TIER_RANK.get(b, 2) else b


async def owner_of(session: AsyncSession, kind: str, value: str) -> str | None:
    """The customer holding this phone or member id (``value`` already normalised)."""
    return await session.scalar(
        select(ChannelIdentity.customer_id).where(
            ChannelIdentity.channel == kind, ChannelIdentity.channel_user_id == value
        )
    )


async def find_by_phone_or_member(
    session: AsyncSession, *, phone: str | None = None, member_id: str | None = None
) -> str | None:
    """The customer with this phone (tried first) or member id, if any."""
    if phone:
        found = await owner_of(session, PHONE, normalize_phone(phone))
        if found is not None:
            return found
    if member_id:
        return await owner_of(session, MEMBER, normalize(MEMBER, member_id))
    return None


async def merged_into(session: AsyncSession, customer_id: str) -> str | None:
    return await session.scalar(
        select(IdentityMerge.kept_customer_id).where(IdentityMerge.merged_customer_id == customer_id)
    )


async def resolve(session: AsyncSession, customer_id: str) -> str:
    """The live customer a (possibly merged) customer id stands for."""
    current = customer_id
    for _ in range(MAX_CHAIN):
        kept = await merged_into(session, current)
        if kept is None:
            return current
        current = kept
    raise Conflict(f"customer {customer_id} has a merge chain longer than {MAX_CHAIN}", code="merge_loop")


async def _live_customer(session: AsyncSession, customer_id: str) -> Customer:
    customer = await session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"no customer {customer_id!r}", code="customer_not_found")
    if await merged_into(session, customer_id) is not None:
        raise Conflict(f"customer {customer_id} was merged into another", code="customer_merged")
    return customer


async def link(session: AsyncSession, customer_id_a: str, customer_id_b: str, reason: str, actor: str) -> str:
    """Merge customer b into customer a (in the caller's transaction); returns a's id."""
    if customer_id_a == customer_id_b:
        raise ValidationFailed("a customer cannot be linked to itself", code="same_customer")
    kept = await _live_customer(session, customer_id_a)
    merged = await _live_customer(session, customer_id_b)
    for model in (ChannelIdentity, Conversation, Ticket):
        await session.execute(
            update(model).where(model.customer_id == merged.id).values(customer_id=kept.id),
            execution_options={"synchronize_session": "fetch"},
        )
    kept.tier = higher_tier(kept.tier, merged.tier)
    kept.display_name = kept.display_name or merged.display_name
    session.add(
        IdentityMerge(
            kept_customer_id=kept.id, merged_customer_id=merged.id, reason=reason[:128], actor=actor[:64]
        )
    )
    await session.flush()
    return kept.id


async def attach(
    session: AsyncSession,
    customer_id: str,
    kind: str,
    value: str,
    *,
    reason: str,
    actor: str,
    keep_owner: bool,
) -> str:
    """Give a customer a phone or member id; returns the customer that now holds it.

    If another customer already holds it, the two are merged: the holder is kept when
    ``keep_owner`` (automatic linking: the older record wins), otherwise ``customer_id`` is.
    """
    value = normalize(kind, value)
    owner = await owner_of(session, kind, value)
    if owner is None:
        await _live_customer(session, customer_id)
        session.add(ChannelIdentity(customer_id=customer_id, channel=kind, channel_user_id=value))
        await session.flush()
        return customer_id
    if owner == customer_id:
        return customer_id
    if keep_owner:
        return await link(session, owner, customer_id, reason, actor)
    return await link(session, customer_id, owner, reason, actor)


def _claims(metadata: Mapping[str, Any]) -> list[tuple[str, str]]:
    customer = metadata.get("customer")
    if not isinstance(customer, Mapping):
        return []
    claims = []
    if isinstance(customer.get("phone"), str):
        claims.append((PHONE, customer["phone"]))
    if isinstance(customer.get("member_id"), str):
        claims.append((MEMBER, customer["member_id"]))
    return claims


async def link_from_metadata(
    session: AsyncSession, customer_id: str, metadata: Mapping[str, Any], actor: str
) -> str:
    """Apply what a trusted channel (the signed app) says about its user; returns the live customer.

    ``metadata["customer"]`` = ``{"phone"?, "member_id"?}``: each value is attached to the
    customer, and a customer already holding it absorbs this one. ``metadata["tier"]`` sets the
    tier (the app is the source of truth for membership). Nothing to apply costs no query.
    """
    current = customer_id
    for kind, value in _claims(metadata):
        current = await attach(
            session, current, kind, value, reason=f"same {kind}", actor=actor, keep_owner=True
        )
    tier = metadata.get("tier")
    if isinstance(tier, str) and tier in TIER_RANK:
        customer = await session.get(Customer, current)
        if customer is not None and customer.tier != tier:
            customer.tier = tier
    return current


async def identities_of(session: AsyncSession, customer_id: str) -> Sequence[ChannelIdentity]:
    result = await session.scalars(
        select(ChannelIdentity).where(ChannelIdentity.customer_id == customer_id).order_by(ChannelIdentity.id)
    )
    return result.all()


async def conversations_of(
    session: AsyncSession, customer_id: str, limit: int = 100
) -> Sequence[Conversation]:
    result = await session.scalars(
        select(Conversation)
        .where(Conversation.customer_id == customer_id)
        .order_by(Conversation.updated_at.desc(), Conversation.id)
        .limit(limit)
    )
    return result.all()


async def merges_into(session: AsyncSession, customer_id: str) -> Sequence[IdentityMerge]:
    result = await session.scalars(
        select(IdentityMerge).where(IdentityMerge.kept_customer_id == customer_id).order_by(IdentityMerge.id)
    )
    return result.all()


async def customer(session: AsyncSession, customer_id: str) -> Customer | None:
    return await session.get(Customer, customer_id)
