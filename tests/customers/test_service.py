"""Customer rules: validation, uniqueness of the phone, search and pagination, CSV import."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from navaia_app.core.errors import Conflict, NotFound, ValidationFailed
from navaia_app.customers import service
from navaia_app.customers.models import Customer, CustomerIn, CustomerPatch


def _count(session) -> int:
    session.expire_all()
    return session.exec(select(func.count()).select_from(Customer)).one()


def _all(session) -> list[Customer]:
    session.expire_all()
    return list(session.exec(select(Customer).order_by(Customer.id)))


def _create(session, **fields) -> Customer:
    fields.setdefault("name", "Ada Lovelace")
    fields.setdefault("phone", "(415) 555-0123")
    customer = service.create_customer(session=session, customer_in=CustomerIn(**fields))
    session.commit()
    return customer


# --- create -------------------------------------------------------------------------------------


def test_create_normalises_phone_to_e164(session):
    customer = _create(session, name="  Ada Lovelace ", phone="(415) 555-0123", email=" Ada@Example.com",
                       timezone="America/Los_Angeles", notes=" likes mornings ")
    row = _all(session)[0]
    assert row.id == customer.id
    assert (row.name, row.phone, row.email, row.timezone, row.notes, row.do_not_call) == (
        "Ada Lovelace", "+14155550123", "ada@example.com", "America/Los_Angeles", "likes mornings", False)
    assert row.created_at.tzinfo is not None


def test_same_number_written_differently_is_a_conflict_on_phone(session):
    _create(session, name="Ada Lovelace", phone="(415) 555-0123")
    with pytest.raises(Conflict) as exc:
        service.create_customer(session=session, customer_in=CustomerIn(name="Someone Else", phone="+1 415 555 0123"))
    assert exc.value.status_code == 409
    assert exc.value.field == "phone"
    assert set(exc.value.errors) == {"phone"}
    assert "+14155550123" in exc.value.message and "phone" in exc.value.message
    assert "Ada Lovelace" in exc.value.message
    session.rollback()
    assert _count(session) == 1


@pytest.mark.parametrize("email", ["not-an-email", "ada@", "@example.com", "ada@@example.com", "ada example@x.com"])
def test_invalid_email_is_refused(session, email):
    with pytest.raises(ValidationFailed) as exc:
        _create(session, email=email)
    assert exc.value.field == "email"
    assert "valid email" in exc.value.message
    session.rollback()
    assert _count(session) == 0


def test_empty_email_is_stored_as_none(session):
    assert _create(session, email="  ").email is None


@pytest.mark.parametrize(("given", "stored"), [
    ("Europe/Paris", "Europe/Paris"),
    ("europe/paris", "Europe/Paris"),
    ("UTC", "UTC"),
    ("", None),
    (None, None),
])
def test_timezone_must_be_an_iana_name(session, given, stored):
    assert _create(session, timezone=given).timezone == stored


@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "GMT+25", "Paris", "Europe/Pariss"])
def test_unknown_timezone_is_refused(session, zone):
    with pytest.raises(ValidationFailed) as exc:
        _create(session, timezone=zone)
    assert exc.value.field == "timezone"
    assert zone in exc.value.message
    session.rollback()
    assert _count(session) == 0


@pytest.mark.parametrize("phone", ["123", "555-1234", "+1 415 555 01234567", "call me", "+999 1234"])
def test_invalid_phone_is_refused(session, phone):
    with pytest.raises(ValidationFailed) as exc:
        _create(session, phone=phone)
    assert exc.value.field == "phone"
    session.rollback()
    assert _count(session) == 0


def test_every_bad_field_is_reported_at_once_and_nothing_written(session):
    with pytest.raises(ValidationFailed) as exc:
        service.create_customer(session=session, customer_in=CustomerIn(
            name=" ", phone="12", email="nope", timezone="Nowhere/City", notes="x" * 2001))
    assert set(exc.value.errors) == {"name", "phone", "email", "timezone", "notes"}
    assert all(isinstance(v, str) and v for v in exc.value.errors.values())
    session.rollback()
    assert _count(session) == 0


def test_international_numbers_keep_their_country(session):
    assert _create(session, phone="+44 20 7946 0958").phone == "+442079460958"
    assert _create(session, phone="+33 1 42 68 53 00").phone == "+33142685300"


# --- read, update, delete -----------------------------------------------------------------------


def test_get_and_missing_customer(session):
    customer = _create(session)
    assert service.get_customer(session=session, customer_id=customer.id).phone == "+14155550123"
    with pytest.raises(NotFound) as exc:
        service.get_customer(session=session, customer_id=customer.id + 1000)
    assert str(customer.id + 1000) in exc.value.message


def test_patch_changes_only_given_fields(session):
    customer = _create(session, email="ada@example.com", timezone="Europe/London")
    before = customer.updated_at
    service.update_customer(session=session, customer_id=customer.id,
                            patch=CustomerPatch(name="Ada King", do_not_call=True))
    session.commit()
    row = _all(session)[0]
    assert (row.name, row.phone, row.email, row.timezone, row.do_not_call) == (
        "Ada King", "+14155550123", "ada@example.com", "Europe/London", True)
    assert row.updated_at > before


def test_patch_normalises_and_clears(session):
    customer = _create(session, email="ada@example.com", timezone="Europe/London")
    service.update_customer(session=session, customer_id=customer.id,
                            patch=CustomerPatch(phone="415.555.0199", email=None, timezone=""))
    session.commit()
    row = _all(session)[0]
    assert (row.phone, row.email, row.timezone) == ("+14155550199", None, None)


def test_patch_keeping_own_phone_is_fine(session):
    customer = _create(session)
    service.update_customer(session=session, customer_id=customer.id, patch=CustomerPatch(phone="+1 415 555 0123"))
    session.commit()
    assert _all(session)[0].phone == "+14155550123"


def test_patch_to_another_customers_phone_is_a_conflict(session):
    _create(session, name="Ada", phone="4155550123")
    bob = _create(session, name="Bob", phone="4155550124")
    with pytest.raises(Conflict) as exc:
        service.update_customer(session=session, customer_id=bob.id, patch=CustomerPatch(phone="(415) 555-0123"))
    assert exc.value.field == "phone"
    session.rollback()
    assert [c.phone for c in _all(session)] == ["+14155550123", "+14155550124"]


@pytest.mark.parametrize(("patch", "field"), [
    ({"name": None}, "name"),
    ({"name": ""}, "name"),
    ({"phone": None}, "phone"),
    ({"phone": "12"}, "phone"),
    ({"email": "nope"}, "email"),
    ({"timezone": "Nowhere/City"}, "timezone"),
])
def test_invalid_patch_changes_nothing(session, patch, field):
    customer = _create(session, email="ada@example.com")
    with pytest.raises(ValidationFailed) as exc:
        service.update_customer(session=session, customer_id=customer.id, patch=CustomerPatch(**patch))
    assert exc.value.field == field
    session.rollback()
    row = _all(session)[0]
    assert (row.name, row.phone, row.email) == ("Ada Lovelace", "+14155550123", "ada@example.com")


def test_patch_missing_customer(session):
    with pytest.raises(NotFound):
        service.update_customer(session=session, customer_id=999, patch=CustomerPatch(name="X"))


def test_delete(session):
    ada = _create(session, name="Ada", phone="4155550123")
    _create(session, name="Bob", phone="4155550124")
    service.delete_customer(session=session, customer_id=ada.id)
    session.commit()
    assert [c.name for c in _all(session)] == ["Bob"]
    with pytest.raises(NotFound):
        service.delete_customer(session=session, customer_id=ada.id)
    # The freed phone can be used again.
    assert _create(session, name="Ada again", phone="+14155550123").phone == "+14155550123"


# --- list ---------------------------------------------------------------------------------------


@pytest.fixture
def crowd(session) -> list[Customer]:
    """30 customers: Customer 00 .. Customer 29 with phones +1415555010N and a few special ones."""
    made = []
    for n in range(30):
        made.append(service.create_customer(session=session, customer_in=CustomerIn(
            name=f"Customer {n:02d}", phone=f"415 555 01{n:02d}",
            email=f"customer{n:02d}@example.com" if n % 2 == 0 else None,
            do_not_call=n % 5 == 0)))
    made.append(service.create_customer(session=session, customer_in=CustomerIn(
        name="Grace Hopper", phone="+44 20 7946 0958", email="grace@navy.example.org")))
    made.append(service.create_customer(session=session, customer_in=CustomerIn(
        name="Percy 100% Sure_Thing", phone="+33 1 42 68 53 00")))
    session.commit()
    return made


def test_list_paginates_with_total(session, crowd):
    first, total = service.list_customers(session=session, limit=10, offset=0)
    assert total == 32
    assert [c.name for c in first] == [f"Customer {n:02d}" for n in range(10)]
    last, total = service.list_customers(session=session, limit=10, offset=30)
    assert total == 32
    assert [c.name for c in last] == ["Grace Hopper", "Percy 100% Sure_Thing"]
    beyond, total = service.list_customers(session=session, limit=10, offset=100)
    assert (beyond, total) == ([], 32)


def test_list_limit_is_bounded(session, crowd):
    items, _ = service.list_customers(session=session, limit=10_000)
    assert len(items) == 32  # bounded at MAX_PAGE (200), all fit
    items, _ = service.list_customers(session=session, limit=0)
    assert len(items) == 1


def test_list_sorts(session, crowd):
    names = [c.name for c in service.list_customers(session=session, sort="name", descending=True, limit=3)[0]]
    assert names == ["Percy 100% Sure_Thing", "Grace Hopper", "Customer 29"]
    ids = [c.id for c in service.list_customers(session=session, sort="id", limit=200)[0]]
    assert ids == sorted(ids)
    newest = service.list_customers(session=session, sort="created_at", descending=True, limit=1)[0][0]
    assert newest.name == "Percy 100% Sure_Thing"
    phones = [c.phone for c in service.list_customers(session=session, sort="phone", limit=200)[0]]
    assert phones == sorted(phones)
    with pytest.raises(ValidationFailed) as exc:
        service.list_customers(session=session, sort="password")
    assert exc.value.field == "sort"


@pytest.mark.parametrize(("q", "names"), [
    ("grace", ["Grace Hopper"]),                          # name, any case
    ("HOPPER", ["Grace Hopper"]),
    ("navy.example", ["Grace Hopper"]),                   # email
    ("customer04@", ["Customer 04"]),
    ("(415) 555-0107", ["Customer 07"]),                  # phone digits, however written
    ("555 0107", ["Customer 07"]),
    ("7946", ["Grace Hopper"]),
    ("0% sure", ["Percy 100% Sure_Thing"]),               # % and _ are literal, not wildcards
    ("e_thing", ["Percy 100% Sure_Thing"]),
    ("cust_mer", []),
    ("%", ["Percy 100% Sure_Thing"]),
    ("nobody at all", []),
])
def test_search(session, crowd, q, names):
    items, total = service.list_customers(session=session, q=q, limit=200)
    assert sorted(c.name for c in items) == names
    assert total == len(names)


def test_filters_phone_email_and_do_not_call_combine(session, crowd):
    items, total = service.list_customers(session=session, phone="(415) 555-0110")
    assert [c.name for c in items] == ["Customer 10"] and total == 1
    items, total = service.list_customers(session=session, email=" Customer10@EXAMPLE.com ")
    assert [c.name for c in items] == ["Customer 10"]
    items, total = service.list_customers(session=session, do_not_call=True, limit=200)
    assert [c.name for c in items] == [f"Customer {n:02d}" for n in (0, 5, 10, 15, 20, 25)] and total == 6
    items, total = service.list_customers(session=session, do_not_call=True, q="customer 1", limit=200)
    assert [c.name for c in items] == ["Customer 10", "Customer 15"] and total == 2
    with pytest.raises(ValidationFailed):
        service.list_customers(session=session, phone="12")


# --- CSV import ---------------------------------------------------------------------------------


def test_import_reports_each_skipped_row(session):
    _create(session, name="Already Here", phone="+1 415 555 0150")
    content = (
        "Full Name,Phone Number,E-mail,TZ,DNC,Comments\n"
        "Ada Lovelace,(415) 555-0101,ADA@example.com,Europe/London,yes,first\n"   # row 2: created
        "Bad Phone,12345,,,,\n"                                                    # row 3: bad phone
        "Ada Twin,+1 415 555 0101,,,,\n"                                           # row 4: repeats row 2
        "Existing,415-555-0150,,,,\n"                                              # row 5: already in db
        ",415 555 0102,,,,\n"                                                      # row 6: no name
        "\n"                                                                       # blank: ignored
        "Bob Builder,415 555 0103,bob@example,,no,\n"                              # row 8: bad email
        "Cleo,415 555 0104,,Mars/Base,,\n"                                         # row 9: bad zone
        "Dan,415 555 0105,dan@example.com,,,\n"                                    # row 10: created
    )
    report = service.import_customers_csv(session=session, content=content)
    session.commit()
    assert report.created == 2
    assert [s["row"] for s in report.skipped] == [3, 4, 5, 6, 8, 9]  # in file order
    reasons = {s["row"]: s["reason"] for s in report.skipped}
    assert reasons[3].startswith("phone:")
    assert "repeats row 2" in reasons[4]
    assert "already exists" in reasons[5]
    assert reasons[6].startswith("name:")
    assert reasons[8].startswith("email:")
    assert reasons[9].startswith("timezone:")
    rows = {c.name: c for c in _all(session)}
    assert set(rows) == {"Already Here", "Ada Lovelace", "Dan"}
    ada = rows["Ada Lovelace"]
    assert (ada.phone, ada.email, ada.timezone, ada.do_not_call, ada.notes) == (
        "+14155550101", "ada@example.com", "Europe/London", True, "first")


@pytest.mark.parametrize("content", [
    "name;phone;email\nAda;(415) 555-0101;ada@example.com\nBob;415 555 0102;\n",
    "name\tphone\nAda\t(415) 555-0101\nBob\t415 555 0102\n",
    '"Name","Mobile"\n"Lovelace, Ada","(415) 555-0101"\n"Bob","415 555 0102"\n',
    b"\xef\xbb\xbfcustomer name,telephone\r\nAda,(415) 555-0101\r\nBob,415 555 0102\r\n",
])
def test_import_understands_common_csv_shapes(session, content):
    report = service.import_customers_csv(session=session, content=content)
    session.commit()
    assert (report.created, report.skipped) == (2, [])
    assert sorted(c.phone for c in _all(session)) == ["+14155550101", "+14155550102"]


@pytest.mark.parametrize(("content", "message"), [
    ("", "empty"),
    ("email,notes\nada@example.com,x\n", "name, phone"),
    ("name,email\nAda,ada@example.com\n", "phone"),
    (b"name,phone\nJos\xe9,4155550101\n", "UTF-8"),
    ('name,phone\nAda,4155550101\nBob,"' + "x" * 200_000 + '"\n', "not readable CSV after row 2"),
])
def test_import_refuses_unusable_files(session, content, message):
    with pytest.raises(ValidationFailed) as exc:
        service.import_customers_csv(session=session, content=content)
    assert exc.value.field == "file"
    assert message in exc.value.message
    session.rollback()
    assert _count(session) == 0


def test_import_of_a_large_file_checks_existing_phones_in_bulk(session):
    _create(session, name="Already Here", phone="+1 415 200 0777")
    lines = ["name,phone"] + [f"Person {n},+1 415 200 {n:04d}" for n in range(1500)]
    report = service.import_customers_csv(session=session, content="\n".join(lines))
    session.commit()
    assert report.created == 1499
    assert report.skipped == [{"row": 779, "reason": "a customer with phone +14152000777 already exists"}]
    assert _count(session) == 1500
