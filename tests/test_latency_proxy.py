"""fixtures/latency_proxy.py: bytes pass unchanged, each way `delay` late, without
chunks queueing behind each other's delays; closes travel; git works through it.

Timing is only ever checked as a lower bound (a round trip takes at least 2 x delay),
except for the one property the proxy exists for: chunks in flight must not add
their delays up. That bound is generous (half of what adding up would take).
"""

from __future__ import annotations

import base64
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from fixtures.latency_proxy import LatencyProxy
from fixtures.repos import commit_files, git, show


@contextmanager
def tcp_server(handle: Callable[[socket.socket], None]) -> Iterator[int]:
    """A threaded TCP server on 127.0.0.1 running `handle(conn)` per connection; its port."""
    listener = socket.create_server(("127.0.0.1", 0), backlog=128)

    def serve() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:  # closed: the test is over
                return
            threading.Thread(target=lambda c=conn: _run(handle, c), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept(); close() alone
        listener.close()  # would leave it listening, and answering a later test's port


def _run(handle: Callable[[socket.socket], None], conn: socket.socket) -> None:
    with conn:
        handle(conn)


def echo(conn: socket.socket) -> None:
    """Send back everything, then half-close once the client half-closed."""
    while data := conn.recv(1 << 16):
        conn.sendall(data)
    conn.shutdown(socket.SHUT_WR)


def connect(proxy: LatencyProxy) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", proxy.port), timeout=30)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def read_to_eof(sock: socket.socket) -> bytes:
    got = bytearray()
    while data := sock.recv(1 << 20):
        got += data
    return bytes(got)


def recv_or_reset(sock: socket.socket) -> bytes:
    """What recv gives, b"" for a reset: either way the peer told us it is gone."""
    try:
        return sock.recv(1)
    except ConnectionResetError:
        return b""


def test_bytes_pass_unchanged_both_ways_large_and_in_many_small_writes():
    payload = os.urandom(5 << 20)
    small = [os.urandom(1 + i % 700) for i in range(2000)]
    with tcp_server(echo) as port, LatencyProxy(port, delay=0.01) as proxy:
        with connect(proxy) as sock:  # 5 MB up while 5 MB come back
            sender = threading.Thread(
                target=lambda: (sock.sendall(payload), sock.shutdown(socket.SHUT_WR))
            )
            sender.start()
            assert read_to_eof(sock) == payload
            sender.join()
        with connect(proxy) as sock:
            for chunk in small:
                sock.sendall(chunk)
            sock.shutdown(socket.SHUT_WR)
            assert read_to_eof(sock) == b"".join(small)
        assert proxy.connections == 2


def test_a_round_trip_takes_at_least_twice_the_delay():
    delay = 0.05
    with tcp_server(echo) as port, LatencyProxy(port, delay=delay) as proxy, connect(proxy) as sock:
        for _ in range(3):
            start = time.monotonic()
            sock.sendall(b"ping")
            assert sock.recv(16) == b"ping"
            assert time.monotonic() - start >= 2 * delay


def test_chunks_in_flight_do_not_add_up_their_delays():
    """50 chunks sent 2 ms apart (so the proxy reads each on its own): they come back
    about 2 x delay after they left, not one delay after the other."""
    delay, chunks = 0.05, 50
    with tcp_server(echo) as port, LatencyProxy(port, delay=delay) as proxy, connect(proxy) as sock:
        got = bytearray()
        receiver = threading.Thread(target=lambda: got.extend(read_to_eof(sock)))
        receiver.start()
        start = time.monotonic()
        for i in range(chunks):
            sock.sendall(b"%03d" % i)
            time.sleep(0.002)
        sent = time.monotonic()
        sock.shutdown(socket.SHUT_WR)
        receiver.join(30)
        took = time.monotonic() - start
    assert got == b"".join(b"%03d" % i for i in range(chunks))  # in order, all there
    assert took >= (sent - start) + 2 * delay  # the last one was delayed too
    assert took < (chunks // 2) * delay  # adding up would take chunks x 2 x delay


def test_fifty_connections_at_once_each_get_their_own_bytes_back():
    results: dict[int, bytes] = {}
    with tcp_server(echo) as port, LatencyProxy(port, delay=0.02) as proxy:

        def client(i: int) -> None:
            with connect(proxy) as sock:
                sock.sendall(f"client {i}\n".encode() * 100)
                sock.shutdown(socket.SHUT_WR)
                results[i] = read_to_eof(sock)

        threads = [threading.Thread(target=client, args=(i,)) for i in range(50)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert results == {i: f"client {i}\n".encode() * 100 for i in range(50)}
        assert proxy.connections == 50
        deadline = time.monotonic() + 10
        while proxy.open_connections and time.monotonic() < deadline:
            time.sleep(0.01)
        assert proxy.open_connections == 0  # every closed pair was let go


def test_the_server_closing_reaches_the_client_as_eof_after_its_last_bytes():
    def say_bye(conn: socket.socket) -> None:
        conn.sendall(b"bye")  # and close, without waiting for the client

    with tcp_server(say_bye) as port, LatencyProxy(port, delay=0.02) as proxy, connect(proxy) as s:
        assert read_to_eof(s) == b"bye"


def test_the_client_half_closing_reaches_the_server_which_can_still_answer():
    heard: list[bytes] = []

    def answer_after_eof(conn: socket.socket) -> None:
        heard.append(read_to_eof(conn))  # returns only once the client's EOF came through
        conn.sendall(b"got it")

    with (
        tcp_server(answer_after_eof) as port,
        LatencyProxy(port, delay=0.02) as proxy,
        connect(proxy) as sock,
    ):
        sock.sendall(b"request")
        sock.shutdown(socket.SHUT_WR)
        assert read_to_eof(sock) == b"got it"
    assert heard == [b"request"]


def test_a_target_that_refuses_closes_the_client():
    spare = socket.create_server(("127.0.0.1", 0))
    port = spare.getsockname()[1]
    spare.close()  # nothing listens there now
    with LatencyProxy(port, delay=0.01) as proxy, connect(proxy) as sock:
        assert recv_or_reset(sock) == b""


def test_stop_closes_the_listener_every_connection_and_the_thread():
    with tcp_server(echo) as port:
        proxy = LatencyProxy(port, delay=0.01).start()
        sock = connect(proxy)
        sock.sendall(b"x")
        assert sock.recv(1) == b"x"
        listening = proxy.port
        proxy.stop()
        assert recv_or_reset(sock) == b""
        sock.close()
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection(("127.0.0.1", listening), timeout=5).close()
        assert not [t for t in threading.enumerate() if t.name == "latency-proxy"]
        proxy.stop()  # twice is fine


def test_git_clones_and_pushes_through_the_proxy_with_a_token(http_repo, http, tmp_path: Path):
    owner, repo, bare = http_repo
    commit_files(bare, {"seed.md": "seed\n"})
    http.set(token="s3cret")
    header = "Authorization: Basic " + base64.b64encode(b"x-access-token:s3cret").decode()
    env = {
        "GIT_CONFIG_COUNT": "1",
        "GIT_CONFIG_KEY_0": "http.extraHeader",
        "GIT_CONFIG_VALUE_0": header,
    }
    with LatencyProxy(http.port, delay=0.01) as proxy:
        work = tmp_path / "work"
        git("clone", "--quiet", proxy.url(owner, repo), str(work), env=env)
        (work / "pushed.md").write_text("through the proxy\n")
        git("add", "pushed.md", cwd=work)
        git("commit", "--quiet", "-m", "through the proxy", cwd=work)
        git("push", "--quiet", "origin", "HEAD:main", cwd=work, env=env)
        assert proxy.connections >= 2  # the clone and the push each came through it
    assert show(bare, "pushed.md") == "through the proxy\n"
    assert [p for _m, p, _a in http.requests if p.endswith("/git-receive-pack")]


def test_pulseox_git_posts_through_the_proxy(http_repo, http, cli, monkeypatch):
    owner, repo, bare = http_repo
    http.set(token="s3cret")
    monkeypatch.setenv("PULSEOX_TOKEN", "s3cret")
    with LatencyProxy(http.port, delay=0.01) as proxy:
        code, _out, err = cli(
            "post",
            "--owner",
            owner,
            "--repo",
            repo,
            "--path",
            "jobs/a.md",
            "--content",
            "hello",
            "--remote",
            proxy.template,
        )
        assert code == 0, err
        assert proxy.connections >= 1
    assert show(bare, "jobs/a.md").startswith("hello")


@pytest.mark.slow
def test_the_burst_harness_accounts_for_every_writer_request_and_push(tmp_path: Path):
    """scripts/burst.py end to end at 3 writers: every page lands, every request is
    attributed to a writer, and the server's pushes agree with the writers' own logs
    (a queued post's log names the attempt that queued it)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    import burst

    (tmp_path / "root").mkdir()
    with (
        burst.CountingServer(tmp_path / "root", burst.TOKEN) as server,
        LatencyProxy(server.port, delay=0.005) as proxy,
    ):
        shared = burst.run_burst(tmp_path / "runs", server, proxy, 3)
        own = burst.run_burst(tmp_path / "runs", server, proxy, 3, own_repos=True)
    for run in (shared, own):
        writers = run["per_writer"]
        assert (run["landed"] + run["in_inbox"], run["lost"], run["missing"]) == (3, 0, 0)
        assert run["in_inbox"] == run["queued"]  # each queued post is in its inbox ref
        assert run["unattributed_requests"] == 0 and run["log_disagreements"] == 0
        assert run["http_requests"] == sum(w["requests"] for w in writers)
        assert run["receive_pack_posts"] == sum(w["packs_sent"] for w in writers)
        assert all(w["pushes"] >= 1 and w["latency_s"] > 0 for w in writers)
    assert [w["pushes"] for w in own["per_writer"]] == [1, 1, 1]  # nothing to race
    assert sum(w["pushes"] for w in shared["per_writer"]) >= 3
