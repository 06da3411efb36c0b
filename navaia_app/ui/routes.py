"""Every page route in one place."""

LOGIN = "/login"
REGISTER = "/register"
DASHBOARD = "/"
CUSTOMERS = "/customers"
TICKETS = "/tickets"
BOOKINGS = "/bookings"
CAMPAIGNS = "/campaigns"
CAMPAIGN = "/campaigns/[campaign_id]"
CONVERSATIONS = "/conversations"
ANALYTICS = "/analytics"
SUPPORT_AGENT = "/support-agent"
PLAYGROUND = "/playground"
SETTINGS = "/settings"
INTEGRATIONS = "/integrations"
SYSTEM = "/system"

PUBLIC = {LOGIN, REGISTER}
