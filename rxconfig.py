import reflex as rx

config = rx.Config(app_name="navaia_app", telemetry_enabled=False, show_built_with_reflex=False, state_auto_setters=False)
