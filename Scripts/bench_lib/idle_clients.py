#!/usr/bin/env python3
"""Opens N idle, authenticated MySQL client connections and holds them.

A raw asyncio client: it reads the server greeting, answers with mysql_native_password (and an
auth switch to it, if the server asks), checks the OK, and then keeps the socket open without a
query. Far cheaper per connection than a driver, so 10,000 logins take seconds.

    idle_clients.py --port P --user U --password W --count N [--concurrency 200] [--timeout 180]

Prints one line `ready opened=N failed=F seconds=S first_error=...` when every login is done (or
the timeout hit), then holds the connections until stdin closes (or --hold seconds pass) and exits.
A line `ping` on stdin sends COM_PING on every connection and prints `pinged ok=N failed=F seconds=S`:
the proof that the connections held are alive, not only open.
"""
import argparse
import asyncio
import hashlib
import os
import struct
import time

CLIENT_LONG_PASSWORD = 0x1
CLIENT_CONNECT_WITH_DB = 0x8
CLIENT_PROTOCOL_41 = 0x200
CLIENT_TRANSACTIONS = 0x2000
CLIENT_SECURE_CONNECTION = 0x8000
CLIENT_MULTI_RESULTS = 0x20000
CLIENT_PLUGIN_AUTH = 0x80000
NATIVE = b"mysql_native_password"


def scramble(password: bytes, salt: bytes) -> bytes:
    """SHA1(password) XOR SHA1(salt + SHA1(SHA1(password)))."""
    if not password:
        return b""
    stage1 = hashlib.sha1(password).digest()
    stage2 = hashlib.sha1(stage1).digest()
    mix = hashlib.sha1(salt + stage2).digest()
    return bytes(a ^ b for a, b in zip(stage1, mix))


async def read_packet(reader):
    header = await reader.readexactly(4)
    length = header[0] | header[1] << 8 | header[2] << 16
    return header[3], await reader.readexactly(length)


def write_packet(writer, seq, payload):
    writer.write(struct.pack("<I", len(payload))[:3] + bytes([seq & 0xFF]) + payload)


def parse_greeting(payload: bytes):
    if payload[:1] == b"\xff":
        raise ConnectionError(f"server refused: {payload[3:].decode(errors='replace')}")
    pos = payload.index(b"\0", 1) + 1          # protocol version byte, server version
    pos += 4                                   # connection id
    salt = payload[pos:pos + 8]
    pos += 8 + 1                               # part 1, filler
    pos += 2 + 1 + 2 + 2                       # capabilities low, charset, status, capabilities high
    data_len = payload[pos]
    pos += 1 + 10                              # auth data length, reserved
    part2_len = max(13, data_len - 8)
    salt += payload[pos:pos + part2_len].rstrip(b"\0")[:12]
    return salt


async def login(host, port, user, password, database):
    reader, writer = await asyncio.open_connection(host, port)
    try:
        seq, greeting = await read_packet(reader)
        salt = parse_greeting(greeting)
        caps = (CLIENT_LONG_PASSWORD | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS | CLIENT_SECURE_CONNECTION
                | CLIENT_MULTI_RESULTS | CLIENT_PLUGIN_AUTH | (CLIENT_CONNECT_WITH_DB if database else 0))
        auth = scramble(password, salt)
        body = struct.pack("<IIB", caps, 1 << 24, 45) + b"\0" * 23 + user + b"\0" + bytes([len(auth)]) + auth
        if database:
            body += database + b"\0"
        body += NATIVE + b"\0"
        write_packet(writer, seq + 1, body)
        seq, reply = await read_packet(reader)
        if reply[:1] == b"\xfe":               # auth switch request: plugin name, then the new salt
            plugin, _, data = reply[1:].partition(b"\0")
            if plugin != NATIVE:
                raise ConnectionError(f"server wants auth plugin {plugin.decode()}")
            write_packet(writer, seq + 1, scramble(password, data.rstrip(b"\0")[:20]))
            seq, reply = await read_packet(reader)
        if reply[:1] == b"\xff":
            code = struct.unpack("<H", reply[1:3])[0]
            raise ConnectionError(f"ERR {code}: {reply[9:].decode(errors='replace')}")
        if reply[:1] != b"\x00":
            raise ConnectionError(f"unexpected reply 0x{reply[:1].hex()}")
        return reader, writer
    except BaseException:
        writer.close()
        raise


async def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", required=True)
    p.add_argument("--password", default="")
    p.add_argument("--database", default="")
    p.add_argument("--count", type=int, required=True)
    p.add_argument("--concurrency", type=int, default=200, help="logins in flight at once")
    p.add_argument("--timeout", type=float, default=180, help="seconds for all the logins")
    p.add_argument("--hold", type=float, default=900, help="seconds to hold at most, then exit")
    a = p.parse_args()

    user, password, database = a.user.encode(), a.password.encode(), a.database.encode()
    gate = asyncio.Semaphore(a.concurrency)
    connections, errors = [], []

    async def one():
        async with gate:
            try:
                connections.append(await asyncio.wait_for(login(a.host, a.port, user, password, database), 30))
            except (OSError, ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError) as e:
                errors.append(f"{type(e).__name__}: {e}")

    started = time.monotonic()
    tasks = [asyncio.ensure_future(one()) for _ in range(a.count)]
    done, pending = await asyncio.wait(tasks, timeout=a.timeout)
    for t in pending:
        t.cancel()
    first = errors[0].replace("\n", " ") if errors else (f"timeout after {a.timeout}s" if pending else "")
    print(f"ready opened={len(connections)} failed={len(errors) + len(pending)} seconds={time.monotonic() - started:.2f} "
          f"first_error={first}", flush=True)

    async def ping(reader, writer):
        async with gate:
            try:
                write_packet(writer, 0, b"\x0e")   # COM_PING
                _, reply = await asyncio.wait_for(read_packet(reader), 30)
                return reply[:1] == b"\x00"
            except (OSError, ConnectionError, asyncio.IncompleteReadError, asyncio.TimeoutError):
                return False

    async def ping_all():
        started = time.monotonic()
        results = await asyncio.gather(*(ping(r, w) for r, w in connections))
        print(f"pinged ok={sum(results)} failed={len(results) - sum(results)} seconds={time.monotonic() - started:.2f}",
              flush=True)

    loop = asyncio.get_running_loop()
    stdin_closed = asyncio.Event()

    def on_stdin():
        data = os.read(0, 4096)
        if not data:                           # EOF: the parent is done measuring
            loop.remove_reader(0)
            stdin_closed.set()
        elif b"ping" in data:
            asyncio.ensure_future(ping_all())

    loop.add_reader(0, on_stdin)
    try:
        await asyncio.wait_for(stdin_closed.wait(), a.hold)
    except asyncio.TimeoutError:
        pass
    for _, w in connections:
        w.close()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
