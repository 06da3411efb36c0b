"""What the detail panel of a ticket or a booking shows of its customer and of the call it came from."""

from __future__ import annotations

from dataclasses import dataclass

from navaia_app.core.validation import display_phone


@dataclass
class RecordDetail:
    """The part every record's detail panel shares; a page's own view adds its fields."""

    id: int = 0
    customer_id: int = 0
    customer_name: str = ""
    customer_phone: str = ""
    customer_email: str = ""
    conversation_id: int = 0
    conversation_summary: str = ""

    def show_customer(self, customer) -> None:
        self.customer_id, self.customer_name = customer.id, customer.name
        self.customer_phone, self.customer_email = display_phone(customer.phone), customer.email or ""

    def show_call(self, call) -> None:
        self.conversation_id, self.conversation_summary = call.id, call.summary or ""
