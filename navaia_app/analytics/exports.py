"""CSV exports: a campaign's calls, and the conversations list as filtered. Rows are read in batches by id
(keyset), each batch in a short session of its own, so a 100,000-row export holds no transaction open
and little memory. Every cell goes through core.csvfile.safe_cell (formula injection)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from sqlalchemy.orm import defer
from sqlmodel import Session, select

from navaia_app.campaigns.models import CampaignCall
from navaia_app.conversations.models import Conversation
from navaia_app.conversations.service import ConversationFilter
from navaia_app.core.csvfile import csv_lines
from navaia_app.core.db import session_scope
from navaia_app.customers.models import Customer

BATCH = 2000

CALL_COLUMNS = ["call_id", "campaign_id", "customer_id", "customer_name", "phone", "status", "attempts",
                "last_outcome", "last_detail", "skip_reason", "last_attempt_at", "duration_seconds",
                "conversation_id", "goal_reached", "handed_off_to", "created_at", "updated_at"]
CONVERSATION_COLUMNS = ["id", "external_id", "started_at", "created_at", "direction", "customer_id", "caller_phone",
                        "intent", "outcome", "goal_reached", "call_successful", "evaluation_failed", "evaluation",
                        "handed_off_to", "handed_off_at", "duration_seconds", "cost_credits", "title", "summary",
                        "ticket_id", "booking_id", "campaign_call_id", "needs_review", "review_reason"]


def _call_batch(session: Session, campaign_id: int, after: int) -> list[tuple[Any, ...]]:
    rows = session.exec(
        select(CampaignCall, Customer.name, Customer.phone, Conversation.goal_reached, Conversation.handed_off_to)
        .join(Customer, Customer.id == CampaignCall.customer_id)
        .outerjoin(Conversation, Conversation.id == CampaignCall.conversation_id)
        .where(CampaignCall.campaign_id == campaign_id, CampaignCall.id > after)
        .order_by(CampaignCall.id).limit(BATCH)).all()
    return [(c.id, c.campaign_id, c.customer_id, name, phone, c.status, c.attempts, c.last_outcome, c.last_detail,
             c.skip_reason, c.last_attempt_at, c.duration_seconds, c.conversation_id,
             "" if goal is None else str(bool(goal)).lower(), handed, c.created_at, c.updated_at)
            for c, name, phone, goal, handed in rows]


def campaign_calls_csv(campaign_id: int) -> Iterator[str]:
    """The campaign's calls (one row a customer, by call id) as CSV lines."""

    def rows():
        after = 0
        while True:
            with session_scope() as session:
                batch = _call_batch(session, campaign_id, after)
            yield from batch
            if len(batch) < BATCH:
                return
            after = batch[-1][0]

    return csv_lines(CALL_COLUMNS, rows())


def _evaluation_text(evaluation: dict[str, Any]) -> str:
    return "; ".join(f"{name}={entry.get('result', 'unknown')}" for name, entry in sorted((evaluation or {}).items()))


def _conversation_row(c: Conversation) -> tuple[Any, ...]:
    return (c.id, c.external_id, c.started_at, c.created_at, c.direction, c.customer_id, c.caller_phone, c.intent,
            c.outcome, str(c.goal_reached).lower(), c.call_successful, str(c.evaluation_failed).lower(),
            _evaluation_text(c.evaluation), c.handed_off_to, c.handed_off_at, c.duration_seconds, c.cost, c.title,
            c.summary, c.ticket_id, c.booking_id, c.campaign_call_id, str(c.needs_review).lower(), c.review_reason)


def conversations_csv(filters: ConversationFilter) -> Iterator[str]:
    """The conversations that match `filters` (newest id first) as CSV lines, transcripts left out."""
    conditions = filters.conditions()  # raises on a bad filter before the first byte is sent

    def rows():
        before = None
        while True:
            with session_scope() as session:
                query = select(Conversation).options(defer(Conversation.transcript), defer(Conversation.data_collection)).where(
                    *conditions)
                if before is not None:
                    query = query.where(Conversation.id < before)
                batch = [_conversation_row(c) for c in session.exec(
                    query.order_by(Conversation.id.desc()).limit(BATCH)).all()]
            yield from batch
            if len(batch) < BATCH:
                return
            before = batch[-1][0]

    return csv_lines(CONVERSATION_COLUMNS, rows())
