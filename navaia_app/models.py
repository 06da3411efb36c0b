"""Every table, imported in one place so Alembic and `create_all` see them all."""

from sqlmodel import SQLModel

from navaia_app.activity.models import ActivityEntry
from navaia_app.analytics.models import AnalyticsDay, AnalyticsOutcome, AnalyticsSlot, AnalyticsTalk
from navaia_app.analytics import rollup  # noqa: F401  (its session hook keeps the rollup exact in every process)
from navaia_app.audit.models import AuditEntry
from navaia_app.auth.models import AuthSession, LoginThrottle, User
from navaia_app.bookings.models import Booking
from navaia_app.campaigns.models import Campaign
from navaia_app.conversations.models import Conversation, ConversationEvaluation, WebhookEvent
from navaia_app.core.live import DataVersion
from navaia_app.customers.models import Customer
from navaia_app.handoff.models import HandoffNumber
from navaia_app.calendar_feeds.models import CalendarFeed
from navaia_app.privacy.models import RetentionPolicy
from navaia_app.webhooks_out.models import OutgoingEvent, WebhookDelivery, WebhookDeliveryAttempt, WebhookEndpoint
from navaia_app.outreach.models import CallStatusEvent, CampaignCall, CampaignCallAttempt, DispatchLease
from navaia_app.reminders.models import BookingReminder, ReminderSettings, SmsMessage
from navaia_app.tickets.models import Ticket

metadata = SQLModel.metadata

__all__ = [
    "AuditEntry", "AnalyticsDay", "AnalyticsOutcome", "AnalyticsSlot", "AnalyticsTalk",
    "ActivityEntry", "AuthSession", "Booking", "DataVersion", "Campaign", "CampaignCall", "Conversation", "Customer",
    "LoginThrottle", "Ticket", "User", "WebhookEvent", "metadata",
    "CallStatusEvent", "CampaignCallAttempt", "DispatchLease",
    "ConversationEvaluation", "HandoffNumber",
    "CalendarFeed", "OutgoingEvent", "RetentionPolicy", "WebhookDelivery", "WebhookDeliveryAttempt", "WebhookEndpoint",
    "BookingReminder", "ReminderSettings", "SmsMessage",
]
