"""The baselines bench_serving.py measures our API against, on the same server in the same run.

`hello` is the least any ASGI app can do (the ceiling a server allows); `fastapi_hello` is the
same answer through FastAPI, a route and a Response.
"""

from fastapi import FastAPI
from starlette.responses import Response

BODY = b'{"hello":"world"}'
_START = {
    "type": "http.response.start",
    "status": 200,
    "headers": [(b"content-type", b"application/json"), (b"content-length", b"17")],
}
_BODY = {"type": "http.response.body", "body": BODY}


async def hello(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send(_START)
    await send(_BODY)


fastapi_hello = FastAPI()


@fastapi_hello.get("/")
async def root() -> Response:
    return Response(BODY, media_type="application/json")
