"""The console's sign-in, sessions, CSRF and need-to-know access, over a real loopback server and
database: each case a request in, a status and an effect out."""

from __future__ import annotations

import pytest

from bot.db.models import AuditLog, Caseworker
from bot.repositories import audit

from .console_harness import PASSWORD, ConsoleSite

OWN, MOTHER, OTHER = "own", "mother", "other"

# every page x every role x whose record -> the expected status (303: to the analyst's totals)
ACCESS = [
    # (username, path, status)
    *[(user, "/console/", 200) for user in ("aziza", "sardor", "admin")],
    ("anvar", "/console/", 303),
    *[(user, "/console/people", 200) for user in ("aziza", "sardor", "admin")],
    ("anvar", "/console/people", 403),
    *[(user, "/console/totals", 200) for user in ("sardor", "admin", "anvar")],
    ("aziza", "/console/totals", 403),
    # a caseworker: their own people and those people's family members, nobody else's
    ("aziza", OWN, 200), ("aziza", MOTHER, 200), ("aziza", OTHER, 404),
    ("bobur", OWN, 404), ("bobur", MOTHER, 404),
    ("chinara", OTHER, 200), ("chinara", OWN, 404),
    # a supervisor: their team's people; admin: everyone; an analyst: no person at all
    ("sardor", OWN, 200), ("sardor", MOTHER, 200), ("sardor", OTHER, 404),
    ("admin", OWN, 200), ("admin", OTHER, 200),
    ("anvar", OWN, 403), ("anvar", OTHER, 403),
]


def _path(site: ConsoleSite, target: str) -> str:
    return f"/console/people/{site.people[target]}" if target in site.people else target


@pytest.mark.parametrize(("username", "target", "status"), ACCESS)
def test_every_page_for_every_role(console_site: ConsoleSite, username: str, target: str, status: int) -> None:
    with console_site.signed_in(username) as client:
        response = client.get(_path(console_site, target))
    assert response.status_code == status, (username, target)
    if status == 303:
        assert response.headers["location"] == "/console/totals"


@pytest.mark.parametrize("target", ["/console/", "/console/people", OWN, "/console/totals"])
def test_signed_out_goes_to_sign_in(console_site: ConsoleSite, target: str) -> None:
    with console_site.client() as client:
        response = client.get(_path(console_site, target))
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=/console/")


def test_views_and_guesses_are_audited(console_site: ConsoleSite) -> None:
    with console_site.signed_in("aziza") as client:
        assert client.get(_path(console_site, OWN)).status_code == 200
        assert client.get(_path(console_site, OTHER)).status_code == 404
        assert client.get("/console/people/987654").status_code == 404
    actor = f"caseworker:{console_site.caseworkers['aziza']}"
    with console_site.database.transaction() as session:
        viewed = audit.entries(session, action="person_viewed")
        denied = audit.entries(session, action="person_denied")
    assert [(e.actor, e.entity_id) for e in viewed] == [(actor, console_site.people[OWN])]
    assert [(e.actor, e.entity_id) for e in denied] == [(actor, console_site.people[OTHER]), (actor, 987654)]


def test_people_list_shows_only_the_caseload(console_site: ConsoleSite) -> None:
    with console_site.signed_in("aziza") as client:
        page = client.get("/console/people").text
        found = client.get("/console/people", params={"q": "gulnora"}).text
    assert "Jasur SAMPLE" in page and "Gulnora SAMPLE" in page and "Timur SAMPLE" not in page
    assert "Gulnora SAMPLE" in found and "Jasur SAMPLE" not in found


def test_totals_carry_no_names(console_site: ConsoleSite) -> None:
    with console_site.signed_in("anvar") as client:
        page = client.get("/console/totals").text
    assert "SAMPLE" not in page.replace("Anvar SAMPLE", "")
    assert ">3<" in page  # three people


def test_wrong_password_gives_no_session(console_site: ConsoleSite) -> None:
    with console_site.client() as client:
        for username, password in [("aziza", "wrong password here"), ("nobody", PASSWORD), ("", ""),
                                   ("aziza", "x" * 5000)]:
            response = client.post("/console/login", data={"username": username, "password": password})
            assert response.status_code == 401
            assert "set-cookie" not in response.headers
        assert client.get("/console/").status_code == 303


def test_lockout_after_repeated_failures(console_site: ConsoleSite) -> None:
    with console_site.client() as client:
        for _ in range(5):
            client.post("/console/login", data={"username": "aziza", "password": "wrong password here"})
        locked = client.post("/console/login", data={"username": "aziza", "password": PASSWORD})
        assert locked.status_code == 401
        console_site.clock.advance(minutes=16)
        assert client.post("/console/login", data={"username": "aziza", "password": PASSWORD}).status_code == 303
    with console_site.database.transaction() as session:
        assert [e.entity_id for e in audit.entries(session, action="account_locked")] == [
            console_site.caseworkers["aziza"]]


def test_idle_session_ends(console_site: ConsoleSite) -> None:
    with console_site.signed_in("aziza") as client:
        console_site.clock.advance(minutes=59)
        assert client.get("/console/").status_code == 200
        console_site.clock.advance(minutes=59)  # active a minute ago counts, not sign-in time
        assert client.get("/console/").status_code == 200
        console_site.clock.advance(minutes=61)
        assert client.get("/console/").status_code == 303


def test_sign_out_revokes_the_cookie(console_site: ConsoleSite) -> None:
    with console_site.signed_in("aziza") as client:
        cookie = client.cookies.get("hamroh_console")
        csrf = _csrf(client.get("/console/").text)
        assert client.post("/console/logout", data={"csrf": csrf}).status_code == 303
    with console_site.client() as replay:
        replay.cookies.set("hamroh_console", cookie or "", path="/console")
        assert replay.get("/console/").status_code == 303


def test_disabled_account_is_signed_out(console_site: ConsoleSite) -> None:
    from bot.repositories import accounts

    with console_site.signed_in("bobur") as client:
        with console_site.database.transaction() as session:
            accounts.disable(session, session.get(Caseworker, console_site.caseworkers["bobur"]), "test")
        assert client.get("/console/").status_code == 303
        assert client.post("/console/login", data={"username": "bobur", "password": PASSWORD}).status_code == 401


def _csrf(page: str) -> str:
    marker = 'name="csrf" value="'
    start = page.index(marker) + len(marker)
    return page[start:page.index('"', start)]


@pytest.mark.parametrize(("origin", "with_token", "status"), [
    ("self", True, 303),
    ("self", False, 403),
    ("https://evil.example", True, 403),
    (None, True, 403),
])
def test_posts_need_same_origin_and_token(console_site: ConsoleSite, origin: str | None, with_token: bool,
                                          status: int) -> None:
    with console_site.signed_in("aziza") as client:
        csrf = _csrf(client.get("/console/").text)
        headers = {"origin": console_site.url if origin == "self" else origin or ""}
        if origin is None:
            client.headers.pop("origin")
            headers = {}
        data = {"language": "kk", "back": "/console/people", **({"csrf": csrf} if with_token else {})}
        response = client.post("/console/language", data=data, headers=headers)
    assert response.status_code == status
    with console_site.database.transaction() as session:
        locale = session.get(Caseworker, console_site.caseworkers["aziza"]).locale  # type: ignore[union-attr]
    assert locale == ("kk" if status == 303 else "en")


def test_another_sessions_token_is_refused(console_site: ConsoleSite) -> None:
    with console_site.signed_in("aziza") as first, console_site.signed_in("aziza") as second:
        token = _csrf(first.get("/console/").text)
        assert second.post("/console/language", data={"language": "kk", "csrf": token}).status_code == 403


def test_sign_in_from_another_site_is_refused(console_site: ConsoleSite) -> None:
    with console_site.client() as client:
        response = client.post("/console/login", data={"username": "aziza", "password": PASSWORD},
                               headers={"origin": "https://evil.example"})
    assert response.status_code == 403 and "set-cookie" not in response.headers


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example", "/elsewhere", "/console\\@evil"])
def test_no_redirect_out_of_the_console(console_site: ConsoleSite, target: str) -> None:
    with console_site.client() as client:
        response = client.post("/console/login", data={"username": "aziza", "password": PASSWORD, "next": target})
    assert response.headers["location"] == "/console/"


def test_cookie_flags(console_site: ConsoleSite) -> None:
    with console_site.client() as client:
        response = client.post("/console/login", data={"username": "aziza", "password": PASSWORD})
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/console" in cookie


def test_pages_are_not_cached_and_not_framed(console_site: ConsoleSite) -> None:
    with console_site.signed_in("aziza") as client:
        response = client.get(_path(console_site, OWN))
    assert response.headers["cache-control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


@pytest.mark.parametrize("body,content_type", [
    (b"\xff\xfe\x00garbage", "application/x-www-form-urlencoded"),
    (b"--x\r\nbroken", "multipart/form-data"),
    (b"{}", "application/json"),
])
def test_bad_bodies_get_no_500(console_site: ConsoleSite, body: bytes, content_type: str) -> None:
    with console_site.signed_in("aziza") as client:
        for path in ("/console/login", "/console/language", "/console/logout"):
            response = client.post(path, content=body, headers={"content-type": content_type})
            assert response.status_code in (303, 400, 401, 403), (path, response.status_code)


def test_audit_has_sign_ins(console_site: ConsoleSite) -> None:
    with console_site.signed_in("sardor") as client:
        assert client.get("/console/").status_code == 200
    with console_site.database.transaction() as session:
        rows = session.query(AuditLog).filter(AuditLog.action == "signed_in").all()
    assert [row.entity_id for row in rows] == [console_site.caseworkers["sardor"]]
