"""Builds the Reflex app, mounts the REST API (navaia_app.api_app) and registers every page. Nothing else."""

import reflex as rx

from navaia_app.analytics.pages import analytics_page
from navaia_app.analytics.state import AnalyticsState
from navaia_app.api_app import create_api, mount_api
from navaia_app.auth.pages import login_page, register_page
from navaia_app.auth.settings_pages import settings_page
from navaia_app.auth.settings_state import SettingsState
from navaia_app.auth.state import AuthState
from navaia_app.bookings.pages import bookings_page
from navaia_app.bookings.state import BookingsState
from navaia_app.campaigns.pages import campaign_page, campaigns_page
from navaia_app.campaigns.state import CampaignDetailState, CampaignsState
from navaia_app.conversations.agent_pages import playground_page, support_agent_page
from navaia_app.conversations.agent_state import PlaygroundState, SupportAgentState
from navaia_app.conversations.pages import conversations_page, review_badge
from navaia_app.conversations.setup import AgentSetupState
from navaia_app.conversations.state import ConversationsState
from navaia_app.core import reflex_tokens
from navaia_app.core.process import freeze_startup_heap
from navaia_app.customers.pages import customers_page
from navaia_app.customers.state import CustomersState
from navaia_app.dashboard.pages import dashboard_page
from navaia_app.dashboard.state import DashboardState
from navaia_app.reminders.pages import reminders_settings_page
from navaia_app.reminders.state import RemindersSettingsState
from navaia_app.system.pages import system_page
from navaia_app.system.state import SystemState
from navaia_app.tickets.pages import tickets_page
from navaia_app.tickets.state import TicketsState
from navaia_app.ui import routes
from navaia_app.ui.errors import backend_exception_handler
from navaia_app.ui.layout import add_nav_badge, protected
from navaia_app.webhooks_out.pages import integrations_page
from navaia_app.webhooks_out.state import IntegrationsState

reflex_tokens.install()  # a tab whose web process died keeps its state on the next one (see the module)

app = rx.App(
    api_transformer=mount_api(create_api()),  # /api/* to the REST API, the rest to Reflex
    head_components=[rx.el.meta(name="description", content="Navaia: operations portal for AI voice agents"),
                     rx.script(src="/a11y.js")],  # focus back to a closed dialog's opener; scrollers take focus
    stylesheets=["/a11y.css", "/phone.css"],  # contrast and focus rings (WCAG 2.1 AA); phones: cards, one day
    backend_exception_handler=backend_exception_handler,  # a reference to quote instead of Reflex's generic toast
)

app.add_page(login_page, route=routes.LOGIN, title="Sign in · Navaia", on_load=AuthState.open_public_page)
app.add_page(register_page, route=routes.REGISTER, title="Create account · Navaia",
             on_load=AuthState.open_public_page)

add_nav_badge(routes.CONVERSATIONS, review_badge)  # the count of calls waiting for review

protected(app, routes.DASHBOARD, "Dashboard", on_load=[DashboardState.load])(dashboard_page)
protected(app, routes.CUSTOMERS, "Customers", on_load=[CustomersState.load])(customers_page)
protected(app, routes.SETTINGS, "Settings", on_load=[SettingsState.load, AgentSetupState.load])(settings_page)
protected(app, routes.REMINDER_SETTINGS, "Reminders", on_load=[RemindersSettingsState.load])(reminders_settings_page)
protected(app, routes.TICKETS, "Tickets", on_load=[TicketsState.load])(tickets_page)
protected(app, routes.BOOKINGS, "Bookings", on_load=[BookingsState.load])(bookings_page)
protected(app, routes.CAMPAIGNS, "Campaigns", on_load=[CampaignsState.load])(campaigns_page)
protected(app, routes.CAMPAIGN, "Campaign", on_load=[CampaignDetailState.load])(campaign_page)
protected(app, routes.CONVERSATIONS, "Conversations", on_load=[ConversationsState.load])(conversations_page)
protected(app, routes.ANALYTICS, "Analytics", on_load=[AnalyticsState.load])(analytics_page)
protected(app, routes.SUPPORT_AGENT, "Support Agent", on_load=[SupportAgentState.load])(support_agent_page)
protected(app, routes.PLAYGROUND, "Playground", on_load=[PlaygroundState.load])(playground_page)
protected(app, routes.SYSTEM, "System", on_load=[SystemState.load])(system_page)
protected(app, routes.INTEGRATIONS, "Integrations", on_load=[IntegrationsState.load])(integrations_page)


app.register_lifespan_task(freeze_startup_heap)  # once built and compiled: see core/process.py
