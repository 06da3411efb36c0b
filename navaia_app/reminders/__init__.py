"""Booking reminders: planning, sending, and the customer's answers (see service.py)."""
