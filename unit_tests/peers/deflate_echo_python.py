#!/usr/bin/python3
"""An echo server on Debian's python3-websockets with its permessage-deflate
as it comes (compression="deflate"): a real peer for wsm's deflate offer.
Prints 'listening on URL', then for each connection the extension answer it
gave ('ANSWER ...'), and echoes every message as it came (text or binary).
Stops by itself after 60 s, or at SIGTERM."""
import asyncio
import signal
import sys

import websockets


async def echo(websocket, *_):
    print("ANSWER " + websocket.response_headers.get(
        "Sec-WebSocket-Extensions", ""), flush=True)
    async for message in websocket:
        await websocket.send(message)


async def main():
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(
        signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(echo, "127.0.0.1", 0,
                                compression="deflate") as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on ws://127.0.0.1:{port}/", flush=True)
        await asyncio.wait_for(stop, 60)


try:
    asyncio.run(main())
except asyncio.TimeoutError:
    sys.exit(0)
