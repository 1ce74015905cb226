"""Request bodies above the limit are refused with 413 before they are read (issue 7).

One anonymous 300 MB POST to /api/lint took the process from 185 MB to
1,087 MB: bodies were read before sign-in. Here a real uvicorn server gets a
body that declares its oversize up front and one sent in chunks without a
length; both are answered 413 in the caller's language, and the server keeps
answering. The CSV import keeps its larger limit.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from anshin.app import create_asgi
from anshin.config import Settings
from anshin.db import Base, import_all_models, make_engine
from test_console_support import client_for, login, seed, text_of

LIMIT = 64 * 1024


@pytest.fixture
def limited(settings: Settings) -> Settings:
    seed(settings)
    return settings.model_copy(update={"max_body_bytes": LIMIT, "max_import_bytes": 4 * LIMIT})


@pytest.fixture
def client(limited: Settings) -> Iterator[TestClient]:
    with client_for(limited) as test_client:
        yield test_client


def test_a_declared_oversize_is_413_json_in_the_callers_language(client: TestClient) -> None:
    body = b'{"text": "' + b"a" * (2 * LIMIT) + b'", "kind": "update"}'
    ja = client.post("/api/lint", content=body, headers={"Content-Type": "application/json"})
    assert ja.status_code == 413
    assert ja.json()["error"]["code"] == "TooLarge"
    assert ja.json()["error"]["limit_bytes"] == LIMIT
    assert "64 KB" in ja.json()["error"]["message"]
    assert "大きすぎます" in ja.json()["error"]["message"]
    en = client.post(
        "/api/lint",
        content=body,
        headers={"Content-Type": "application/json", "Accept-Language": "en"},
    )
    assert en.status_code == 413
    assert en.json()["error"]["message"].startswith("The request is too large: at most 64 KB.")


def test_a_chunked_body_is_counted_as_it_arrives(client: TestClient) -> None:
    sent: list[int] = []

    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            sent.append(1)
            yield b"x" * 8192

    response = client.post(
        "/api/lint",
        content=chunks(),
        headers={"Content-Type": "application/json", "Accept-Language": "en"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "TooLarge"


def test_a_console_form_too_large_is_the_error_page(client: TestClient) -> None:
    login(client, "operator")
    response = client.post(
        "/console/incidents/new",
        data={"title": "x" * (2 * LIMIT)},
        headers={"Accept-Language": "en"},
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert "The request is too large: at most 64 KB." in text_of(response.text)


def test_a_chunked_console_form_too_large_is_the_error_page(client: TestClient) -> None:
    login(client, "operator")

    def chunks() -> Iterator[bytes]:
        yield b"title="
        for _ in range(20):
            yield b"x" * 8192

    response = client.post(
        "/console/incidents/new",
        content=chunks(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413
    assert "大きすぎます" in text_of(response.text)


def test_bodies_under_the_limit_and_the_csv_import_pass(client: TestClient) -> None:
    response = client.post("/api/lint", json={"text": "a" * 1000, "kind": "update"})
    assert response.status_code == 401  # past the size check, stopped by sign-in
    csrf = login(client, "senior")
    rows = "email,locale\n" + "".join(f"user{i}@example.com,ja\n" for i in range(3000))
    assert LIMIT < len(rows.encode()) < 4 * LIMIT
    response = client.post(
        "/api/subscribers/import",
        content=rows.encode(),
        headers={"Content-Type": "text/csv", "X-CSRF-Token": csrf},
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 3000
    too_big = rows * 4
    response = client.post(
        "/api/subscribers/import",
        content=too_big.encode(),
        headers={"Content-Type": "text/csv", "X-CSRF-Token": csrf},
    )
    assert response.status_code == 413


# --- a real server: the body is refused on the wire, not after it was read ---------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, int]]:
    """``anshin serve``'s app (create_asgi) under uvicorn in a thread, SQLite."""
    import_all_models()
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    settings = Settings(database_url=url, secret_key="limits-test", max_body_bytes=LIMIT)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_asgi(settings), log_level="warning", access_log=False)
    uv = uvicorn.Server(config)
    thread = threading.Thread(target=uv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not uv.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    yield ("127.0.0.1", port)
    uv.should_exit = True
    thread.join(timeout=10)
    sock.close()


def _exchange(address: tuple[str, int], head: bytes, parts: Iterator[bytes]) -> bytes:
    """Send the head, then body parts until the server answers; return what it answered."""
    with socket.create_connection(address, timeout=30) as conn:
        conn.sendall(head)
        conn.settimeout(0.05)
        answer = b""
        for part in parts:
            try:
                conn.sendall(part)
            except OSError:  # the server closed the connection after answering
                break
            try:
                answer += conn.recv(65536)
            except TimeoutError:
                continue
            if answer:
                break
        conn.settimeout(30)
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            more = conn.recv(65536)
            if not more:
                break
            answer += more
        return answer


def test_a_300_mb_declared_body_is_refused_before_it_is_sent(server: tuple[str, int]) -> None:
    head = (
        b"POST /api/lint HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Accept-Language: en\r\nContent-Length: 314572800\r\n\r\n"
    )
    answer = _exchange(server, head, iter([b"{"]))
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b'"code":"TooLarge"' in answer
    assert b"at most 64 KB" in answer


def test_a_chunked_body_is_cut_off_at_the_limit(server: tuple[str, int]) -> None:
    head = (
        b"POST /api/lint HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Transfer-Encoding: chunked\r\n\r\n"
    )
    chunk = b"2000\r\n" + b"x" * 0x2000 + b"\r\n"
    # Up to 300 MB offered; the server must answer long before that.
    answer = _exchange(server, head, (chunk for _ in range(300 * 128)))
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert b'"code":"TooLarge"' in answer
    with socket.create_connection(server, timeout=30) as conn:  # and it still answers
        conn.sendall(b"GET /api/v2/status.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        assert conn.recv(100).startswith(b"HTTP/1.1 200 ")
