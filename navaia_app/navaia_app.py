"""Builds the Reflex app, mounts the REST API and registers every page. Nothing else."""

import reflex as rx

from navaia_app.auth.pages import login_page, register_page
from navaia_app.auth.settings_pages import settings_page
from navaia_app.auth.settings_state import SettingsState
from navaia_app.auth.state import AuthState
from navaia_app.core.http import create_api
from navaia_app.customers.pages import customers_page
from navaia_app.customers.state import CustomersState
from navaia_app.dashboard.pages import dashboard_page
from navaia_app.dashboard.state import DashboardState
from navaia_app.ui import routes
from navaia_app.ui.coming import coming_page
from navaia_app.ui.layout import protected

app = rx.App(
    api_transformer=create_api(),
    head_components=[rx.el.meta(name="description", content="Navaia: operations portal for AI voice agents")],
)

app.add_page(login_page, route=routes.LOGIN, title="Sign in · Navaia", on_load=AuthState.open_public_page)
app.add_page(register_page, route=routes.REGISTER, title="Create account · Navaia",
             on_load=AuthState.open_public_page)

protected(app, routes.DASHBOARD, "Dashboard", on_load=[DashboardState.load])(dashboard_page)
protected(app, routes.CUSTOMERS, "Customers", on_load=[CustomersState.load])(customers_page)
protected(app, routes.SETTINGS, "Settings", on_load=[SettingsState.load])(settings_page)
protected(app, routes.TICKETS, "Tickets")(coming_page("tickets"))
protected(app, routes.BOOKINGS, "Bookings")(coming_page("bookings"))
protected(app, routes.CAMPAIGNS, "Campaigns")(coming_page("campaigns"))
protected(app, routes.CONVERSATIONS, "Conversations")(coming_page("conversations"))
protected(app, routes.SUPPORT_AGENT, "Support Agent")(coming_page("support_agent"))
protected(app, routes.PLAYGROUND, "Playground")(coming_page("playground"))
