"""The export folder: written after commit only, the served bytes exactly, never an older
page over a newer one, never failing the change — and served by a real nginx with the
configuration docs/status-page.md gives."""

from __future__ import annotations

import logging
import os
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from anshin.app import create_app
from anshin.config import Settings
from anshin.db import utcnow
from anshin.incidents import service
from anshin.statuspage import service as statuspage
from anshin.statuspage.views import ARTEFACT_PATHS
from anshin.web.headers import CSP
from notice_texts import notice_ja
from status_helpers import ACTOR, build_world

DOCS = Path(__file__).resolve().parents[1] / "docs" / "status-page.md"
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


def test_the_folder_holds_the_served_bytes_and_only_committed_pages(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    folder = tmp_path / "export"
    settings.status_export_dir = folder
    incident = build_world(session, settings, utcnow())
    client = TestClient(create_app(settings))
    for path in ("index.html", "en/index.html", *ARTEFACT_PATHS):
        url = "/" + path.removesuffix("index.html")
        served = client.get(url, headers={"Accept-Language": "ja"})
        assert served.status_code == 200, path
        assert (folder / path).read_bytes() == served.content, path
    assert (folder / "static" / "status.css").read_bytes() == client.get(
        "/static/status.css"
    ).content
    version = statuspage.version(session)
    assert (folder / ".anshin-version").read_text().strip() == str(version)
    assert not list(folder.rglob(".tmp-*")), "no temporary file is left behind"

    before = _snapshot(folder)
    service.publish_update(
        session, settings, incident, body_ja=notice_ja("取り消される続報です。"), actor=ACTOR
    )
    assert _snapshot(folder) == before, "nothing is written before the commit"
    session.rollback()
    assert _snapshot(folder) == before, "a rolled-back change never reaches the folder"

    service.publish_update(
        session, settings, incident, body_ja=notice_ja("確定した続報です。"), actor=ACTOR
    )
    session.commit()
    assert "確定した続報です。" in (folder / "index.html").read_text()
    assert (folder / ".anshin-version").read_text().strip() == str(version + 1)


def test_an_older_page_never_overwrites_a_newer_one(tmp_path: Path) -> None:
    folder = tmp_path / "export"
    statuspage.write_files(folder, {"index.html": b"v5"}, version=5)
    assert statuspage.write_files(folder, {"index.html": b"v4"}, version=4) == []
    assert (folder / "index.html").read_bytes() == b"v5"
    written = statuspage.write_files(folder, {"index.html": b"v6"}, version=6)
    assert folder / "index.html" in written
    assert (folder / "index.html").read_bytes() == b"v6"
    assert (folder / ".anshin-version").read_text().strip() == "6"


def test_a_failing_export_does_not_fail_the_change(
    session: Session, settings: Settings, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")
    settings.status_export_dir = blocker
    with caplog.at_level(logging.ERROR, logger="anshin.statuspage"):
        build_world(session, settings, utcnow())
    assert any("export" in r.getMessage() for r in caplog.records)
    page = TestClient(create_app(settings)).get("/")
    assert page.status_code == 200 and "ログインできない障害" in page.text


def test_export_on_demand_publishes_a_fresh_database_first(
    session: Session, settings: Settings, tmp_path: Path
) -> None:
    written = statuspage.export(session, settings, tmp_path / "out")
    names = {p.relative_to(tmp_path / "out").as_posix() for p in written}
    assert {"index.html", "en/index.html", "static/status.css", *ARTEFACT_PATHS} <= names
    assert "すべてのサービスが正常に稼働しています" in (tmp_path / "out" / "index.html").read_text()
    assert statuspage.version(session) == 1


# --- nginx with the documented configuration ------------------------------------------


def _free_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def _documented_site(root: Path, listen: int, app_port: int) -> str:
    found = re.search(r"```nginx\n(.*?)```", DOCS.read_text(), re.S)
    assert found, "docs/status-page.md must hold the nginx site"
    site = found.group(1)
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{listen};"),
        ("root /var/lib/anshin/status;", f"root {root};"),
        ("server 127.0.0.1:8000;", f"server 127.0.0.1:{app_port};"),
    ):
        assert old in site, old
        site = site.replace(old, new)
    return site


@pytest.fixture
def app_server(settings: Settings) -> Iterator[int]:
    """The app on a loopback port (uvicorn in a thread), as nginx's upstream."""
    sock = _free_socket()
    config = uvicorn.Config(create_app(settings), log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    yield sock.getsockname()[1]
    server.should_exit = True
    thread.join(timeout=10)
    sock.close()


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed")
def test_nginx_serves_the_folder_with_the_documented_site(
    session: Session, settings: Settings, tmp_path: Path, app_server: int
) -> None:
    folder = tmp_path / "export"
    settings.status_export_dir = folder
    build_world(session, settings, utcnow())
    for path in [tmp_path, *tmp_path.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    probe = _free_socket()
    port = probe.getsockname()[1]
    probe.close()
    temp = tmp_path / "nginx-temp"
    temp.mkdir()
    conf = tmp_path / "nginx.conf"
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text(
        f"""{user}worker_processes 1;
daemon off;
pid {tmp_path}/nginx.pid;
error_log {tmp_path}/nginx-error.log warn;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
{_documented_site(folder, port, app_server)}
}}
"""
    )
    assert NGINX is not None
    proc = subprocess.Popen(
        [NGINX, "-p", str(tmp_path), "-c", str(conf), "-e", str(tmp_path / "nginx-error.log")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(base + "/api/v2/status.json", timeout=1)
                break
            except httpx.TransportError:
                assert proc.poll() is None, proc.stderr.read() if proc.stderr else b""
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.1)
        with httpx.Client(base_url=base, timeout=5) as http:
            ja = http.get("/")
            assert ja.content == (folder / "index.html").read_bytes()
            assert ja.headers["content-type"].startswith("text/html")
            assert ja.headers["vary"] == "Accept-Language, Cookie"
            assert ja.headers["content-security-policy"] == CSP
            assert ja.headers["x-frame-options"] == "DENY"
            en = http.get("/", headers={"Accept-Language": "en-US,en;q=0.9"})
            assert en.content == (folder / "en" / "index.html").read_bytes()
            by_cookie = http.get("/", headers={"Cookie": "anshin_lang=en", "Accept-Language": "ja"})
            assert by_cookie.content == en.content
            chosen = http.get("/?lang=en", headers={"Accept-Language": "ja"})  # the app answers
            assert (
                '<html lang="en">' in chosen.text
                and "anshin_lang=en" in chosen.headers["set-cookie"]
            )
            assert http.get("/en/").content == en.content
            summary = http.get("/api/v2/summary.json")
            assert summary.headers["content-type"].startswith("application/json")
            assert summary.headers["access-control-allow-origin"] == "*"
            assert summary.headers["x-content-type-options"] == "nosniff"
            assert summary.content == (folder / "api/v2/summary.json").read_bytes()
            atom = http.get("/history.atom")
            assert atom.headers["content-type"].startswith("application/atom+xml")
            assert (
                http.get("/en/history.rss")
                .headers["content-type"]
                .startswith("application/rss+xml")
            )
            assert http.get("/static/status.css").headers["content-type"].startswith("text/css")
            assert 'action="/login"' in http.get("/login").text  # the app behind nginx
    finally:
        proc.terminate()
        proc.wait(timeout=10)
