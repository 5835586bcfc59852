#!/usr/bin/env python3
"""tcpcount.py: a TCP proxy that counts the bytes it carries each way.

    tcpcount.py LISTEN_PORT TARGET_PORT COUNTS_FILE

Listens on 127.0.0.1:LISTEN_PORT and relays every connection to
127.0.0.1:TARGET_PORT.  scale_out_bench.sh points a coordinator's foreign
server at it, so that the bytes a node sends the coordinator are measured
on the wire (PostgreSQL protocol framing, TLS off) rather than estimated
from the size of a state.

COUNTS_FILE holds one line, "UP DOWN CONNECTIONS": bytes client->server,
bytes server->client and connections, totals since the start.  It is
rewritten (write + rename, so a reader never sees half a line) whenever a
connection closes: the coordinator's backend closes its connections to the
nodes when it exits, so once a fresh psql has ended and its backend is
gone, the file has counted all that query's traffic.  The file appears,
with "0 0 0", once the port listens.
"""
import asyncio
import os
import sys

LISTEN, TARGET, COUNTS = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
totals = {"up": 0, "down": 0, "conns": 0}


def write_counts(text):
    tmp = COUNTS + ".tmp"
    with open(tmp, "w") as f:
        f.write(text + "\n")
    os.replace(tmp, COUNTS)


async def pipe(reader, writer, key):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            totals[key] += len(data)
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def handle(client_r, client_w):
    try:
        server_r, server_w = await asyncio.open_connection("127.0.0.1", TARGET)
    except OSError:
        client_w.close()        # the node is down: the client sees a closed connection
        return
    await asyncio.gather(pipe(client_r, server_w, "up"), pipe(server_r, client_w, "down"))
    totals["conns"] += 1
    write_counts("%(up)d %(down)d %(conns)d" % totals)


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", LISTEN)
    write_counts("0 0 0")
    async with server:
        await server.serve_forever()


asyncio.run(main())
