"""The socket ``gpfskit serve`` listens on: its connections send at once (no Nagle delay)."""

from __future__ import annotations

import asyncio
import socket

from gpfskit.cli.serve_cmd import _bind


def _nodelay_of_a_connection(sock: socket.socket) -> int:
    async def main() -> int:
        accepted: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        def connected(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            accepted.set_result(writer.get_extra_info("socket").getsockopt(
                socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(connected, sock=sock)
        _reader, writer = await asyncio.open_connection(*sock.getsockname()[:2])
        try:
            return await asyncio.wait_for(accepted, 10)
        finally:
            writer.close()
            server.close()
            await server.wait_closed()

    return asyncio.run(main())


def test_connections_of_the_served_socket_have_nagle_off():
    assert _nodelay_of_a_connection(_bind("127.0.0.1", 0))


def test_a_socket_not_named_tcp_would_keep_nagle_on():
    """Why ``_bind`` names IPPROTO_TCP: asyncio sets TCP_NODELAY only then."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    assert not _nodelay_of_a_connection(sock)
