"""Every page route in one place."""

LOGIN = "/login"
REGISTER = "/register"
DASHBOARD = "/"
CUSTOMERS = "/customers"
TICKETS = "/tickets"
BOOKINGS = "/bookings"
CAMPAIGNS = "/campaigns"
CONVERSATIONS = "/conversations"
SUPPORT_AGENT = "/support-agent"
PLAYGROUND = "/playground"
SETTINGS = "/settings"

PUBLIC = {LOGIN, REGISTER}
