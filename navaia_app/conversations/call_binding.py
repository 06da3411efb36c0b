"""Whom a call is about, proven by the call itself, never by what the voice agent's model says.

The agent's server tools send two values the platform fills in, which the model cannot choose (the
tools are configured to take them from dynamic variables, see conversations/setup.py):

- `call_token`: the signed token our outbound calls (and the conversation-initiation webhook on
  inbound calls) put in the call's dynamic variables (core/call_tokens.py). It names the customer.
- `caller_id`: `{{system__caller_id}}`, the number an inbound call comes from (the carrier's, not
  the caller's word). It binds the call to the customer with that number.

A token that is present but forged or expired is refused outright (403): someone is tampering. With
neither, the caller is a stranger: the tools tell a stranger only what is safe (whether a record was
found, free appointment times) and never act on an existing customer's records for them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from navaia_app.conversations.service import CallerIdentity, _int_or_none, find_customer
from navaia_app.core.call_tokens import issue_call_token, read_call_token
from navaia_app.core.errors import AuthenticationFailed, PermissionDenied
from navaia_app.core.logging import get_logger
from navaia_app.core.validation import try_normalize_phone
from navaia_app.customers.models import Customer

log = get_logger(__name__)

BAD_TOKEN = "This call's token is not valid (forged or expired), so no customer's records can be used on it."


def _given(value: Any) -> str:
    """A platform-filled value, or "" when the platform left it empty or unfilled ("{{call_token}}")."""
    text = str(value or "").strip()
    return "" if text.startswith("{{") else text


@dataclass(frozen=True)
class CallBinding:
    """What the call proves: the customer it is about (None: a stranger) and the line it comes from."""

    customer: Customer | None = None
    caller_phone: str | None = None  # E.164, from the carrier (inbound) or the token
    proof: str = "none"  # "token", "caller_id" or "none"
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def customer_id(self) -> int | None:
        return self.customer.id if self.customer is not None else None


def bind_call(*, session: Session, call_token: Any = None, caller_id: Any = None) -> CallBinding:
    """The customer this call is about. Raises PermissionDenied for a forged or expired token."""
    token = _given(call_token)
    if token:
        try:
            claims = read_call_token(token)
        except AuthenticationFailed as exc:
            log.warning("agent_tool.call_token_refused", reason=exc.message)
            raise PermissionDenied(BAD_TOKEN) from None
        customer_id = _int_or_none(claims.get("customer_id"))
        customer = session.get(Customer, customer_id) if customer_id is not None else None
        return CallBinding(customer=customer, caller_phone=customer.phone if customer else None, proof="token",
                           claims=claims)
    phone = try_normalize_phone(_given(caller_id)) if _given(caller_id) else None
    if phone:
        customer = find_customer(session=session, identity=CallerIdentity(phones=[phone]))
        return CallBinding(customer=customer, caller_phone=phone, proof="caller_id")
    return CallBinding()


def someone_else(session: Session, binding: CallBinding, identity: CallerIdentity) -> bool:
    """Whether what the model said names a customer other than the one the call is bound to.

    An id always counts (whether or not it exists, so the answer reveals nothing); a phone or an email
    counts when it belongs to another customer's record.
    """
    bound = binding.customer_id
    if identity.customer_id is not None and identity.customer_id != bound:
        return True
    for phone in identity.phones:
        other = find_customer(session=session, identity=CallerIdentity(phones=[phone]))
        if other is not None and other.id != bound:
            return True
    if identity.email:
        other = find_customer(session=session, identity=CallerIdentity(email=identity.email))
        if other is not None and other.id != bound:
            return True
    return False


def inbound_call_token(customer: Customer | None) -> str:
    """The token the initiation webhook gives an inbound call from a known customer's number ("" otherwise)."""
    return issue_call_token({"customer_id": customer.id, "channel": "inbound"}) if customer is not None else ""
