"""What a person does first: sign up, sign out, sign in, add a customer, find it, fix a bad phone."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

ADMIN = {"name": "Ada Lovelace", "email": "ada@example.com", "password": "orbit lantern meadow"}


def sign_in(page, email=ADMIN["email"], password=ADMIN["password"]):
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#login-submit")
    expect(page.locator("#header-user-name")).to_have_text(ADMIN["name"])


def test_first_user_signs_up_and_becomes_admin(page):
    page.goto("/register")
    page.fill("#name", ADMIN["name"])
    page.fill("#email", ADMIN["email"])
    page.fill("#password", ADMIN["password"])
    page.click("#register-submit")
    expect(page).to_have_url(re.compile(r"/$"))
    expect(page.locator("#header-user-name")).to_have_text(ADMIN["name"])
    expect(page.get_by_text("admin", exact=True)).to_be_visible()
    expect(page.get_by_text("Customers").first).to_be_visible()


def test_signed_out_people_are_redirected(page):
    sign_in(page)
    page.get_by_role("button", name="Account menu").click()
    page.locator("#sign-out").click()
    expect(page).to_have_url(re.compile(r"/login/?$"))
    for path in ("/", "/customers", "/settings"):
        page.goto(path)
        expect(page).to_have_url(re.compile(r"/login/?$"))
    # Registration is closed once the first user exists (ALLOW_SIGNUP=false).
    page.goto("/register")
    expect(page.get_by_text("Registration is closed")).to_be_visible()


def test_wrong_password_gets_a_generic_error(page):
    page.goto("/login")
    page.fill("#email", ADMIN["email"])
    page.fill("#password", "not the password at all")
    page.click("#login-submit")
    expect(page.get_by_text("Incorrect email or password.")).to_be_visible()
    expect(page).to_have_url(re.compile(r"/login/?$"))


def test_create_customer_in_dialog_and_find_it_by_search(page):
    sign_in(page)
    page.goto("/customers")
    page.click("#new-customer")
    page.fill("#customer-name", "Grace Hopper")
    page.fill("#customer-phone", "(212) 555-0147")
    page.fill("#customer-email", "grace@example.com")
    page.fill("#customer-timezone", "America/New_York")
    page.click("#customer-submit")
    expect(page.get_by_text("Added Grace Hopper.")).to_be_visible()
    page.fill("#customer-search", "hopper")
    row = page.get_by_role("row").filter(has_text="Grace Hopper")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("+1 212-555-0147")
    # Searching by digits finds it too, and something unrelated finds nothing.
    page.fill("#customer-search", "5550147")
    expect(page.get_by_role("row").filter(has_text="Grace Hopper")).to_have_count(1)
    page.fill("#customer-search", "zzzz-nobody")
    expect(page.get_by_text("No customer matches")).to_be_visible()
    # It survives a reload: it is in the database, not only on screen.
    page.reload()
    page.fill("#customer-search", "grace@example.com")
    expect(page.get_by_role("row").filter(has_text="Grace Hopper")).to_have_count(1)


def test_bad_phone_shows_a_field_error_and_saves_nothing(page):
    sign_in(page)
    page.goto("/customers")
    page.click("#new-customer")
    page.fill("#customer-name", "Bad Number")
    page.fill("#customer-phone", "12")
    page.click("#customer-submit")
    expect(page.get_by_role("alert").filter(has_text="not a valid phone number")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.fill("#customer-search", "Bad Number")
    expect(page.get_by_text("No customer matches")).to_be_visible()


def test_duplicate_phone_is_refused_with_a_clear_message(page):
    sign_in(page)
    page.goto("/customers")
    page.click("#new-customer")
    page.fill("#customer-name", "Someone Else")
    page.fill("#customer-phone", "+1 212 555 0147")
    page.click("#customer-submit")
    expect(page.get_by_role("alert").filter(has_text="already has the phone number")).to_be_visible()
