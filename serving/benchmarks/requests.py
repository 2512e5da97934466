"""POST /benchmarks/requests and GET /benchmarks/requests/{id}: on-demand benchmark runs.

The API only queues: it checks the model and the GPU against the catalog, appends the request to
the Redis stream (`resources.benchmark_queue`) and answers 202; a Dagster sensor claims it and
reports its status. Reads fall back to PostgreSQL when Redis is down, but this write has nowhere
else to go, so then the answer is 503.
"""

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import Connection

from resources import benchmark_queue as queue
from serving import errors
from serving.deps import DatabaseDep
from serving.errors import NotFound, Unavailable
from serving.gpus import repository as gpus
from serving.models import repository as models
from serving.schemas import Text, UtcDatetime

router = APIRouter(tags=["benchmarks"])

# OSError covers refused connections and asyncio timeouts that escape redis-py.
_REDIS_ERRORS = (RedisError, OSError)
_UNAVAILABLE = {503: {"model": errors.ErrorResponse, "description": "The queue (Redis) is down"}}
RequestId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="As returned on POST")]


class BenchmarkRequestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt option must not be silently dropped

    # No whitespace or control characters: ids have none, and PostgreSQL text refuses NUL. C1
    # controls and U+FEFF are listed since `\s` differs between Rust's regex (U+0085 is space)
    # and the ECMA-262 one OpenAPI clients use (U+FEFF is).
    model_id: Text = Field(
        min_length=1,
        max_length=512,
        pattern=r"^[^\s\x00-\x1f\x7f-\x9f\ufeff]+$",
        examples=["Qwen/Qwen3-14B"],
    )
    gpu: Text = Field(
        min_length=1,
        max_length=64,
        pattern=r"^[^\x00-\x1f]+$",
        description="GPU name or alias",
        examples=["H100"],
    )
    batch_size: int | None = Field(None, ge=1, le=4096)
    max_output_tokens: int | None = Field(None, ge=1, le=131_072)
    note: Text = Field("", max_length=500, description="Free text for whoever reads the results")

    def config(self) -> dict[str, int]:
        """The run's configuration: part of its identity for the idempotency rule."""
        options = {"batch_size": self.batch_size, "max_output_tokens": self.max_output_tokens}
        return {name: value for name, value in options.items() if value is not None}


class BenchmarkRequestPublic(BaseModel):
    id: str
    status: queue.Status
    model_id: str
    gpu: str = Field(description="Canonical GPU name")
    config: dict[str, Any]
    requested_by: str
    note: str
    queued_at: UtcDatetime
    started_at: UtcDatetime | None = None
    finished_at: UtcDatetime | None = None
    updated_at: UtcDatetime | None = None
    error: str | None = None
    links: dict[str, str] = Field(examples=[{"self": "/benchmarks/requests/0f3c..."}])


class BenchmarkRequestAccepted(BenchmarkRequestPublic):
    deduplicated: bool = Field(
        description="True when the same model, GPU and config was already queued or running: "
        "this is that request"
    )


@router.post(
    "/benchmarks/requests",
    summary="Ask for a benchmark run of a model on a GPU",
    status_code=202,
    response_model=BenchmarkRequestAccepted,
    responses={
        **errors.NOT_FOUND,
        **errors.INVALID,
        **_UNAVAILABLE,
        **errors.UNPARSABLE,
        **errors.NOT_JSON,
    },
)
async def request_benchmark(
    request: Request, response: Response, db: DatabaseDep, body: BenchmarkRequestIn
) -> BenchmarkRequestAccepted:
    model, known_gpus = await db.run(_catalog_entries, body.model_id)
    if model is None or model.removed_at is not None:
        state = "no longer listed by its registry" if model is not None else "not in the catalog"
        raise NotFound(f"model {body.model_id!r} is {state}", {"model_id": body.model_id})
    gpu = _canonical_gpu(body.gpu, known_gpus)
    keys, args = queue.enqueue_command(
        queue.new_request_id(), body.model_id, gpu, body.config(), _requested_by(request), body.note
    )
    client = _redis(request)
    try:
        request_id, created = queue.parse_enqueue_reply(
            await client.eval(queue.ENQUEUE_SCRIPT, len(keys), *keys, *args)
        )
        status = queue.parse_status(await client.hgetall(queue.status_key(request_id)))
    except _REDIS_ERRORS as error:
        raise _queue_down() from error
    if status is None:  # expired between the two calls: only when the TTLs are misconfigured
        raise Unavailable("the benchmark request was lost; try again")
    link = request.app.url_path_for("get_benchmark_request", request_id=request_id)
    response.headers["Location"] = link
    return BenchmarkRequestAccepted(**status, links={"self": link}, deduplicated=not created)


@router.get(
    "/benchmarks/requests/{request_id}",
    summary="Status of a benchmark request",
    response_model=BenchmarkRequestPublic,
    responses={**errors.NOT_FOUND, **errors.INVALID, **_UNAVAILABLE},
)
async def get_benchmark_request(request: Request, request_id: RequestId) -> BenchmarkRequestPublic:
    try:
        status = queue.parse_status(await _redis(request).hgetall(queue.status_key(request_id)))
    except _REDIS_ERRORS as error:
        raise _queue_down() from error
    if status is None:
        raise NotFound(
            f"benchmark request {request_id!r} is unknown or expired", {"id": request_id}
        )
    link = request.app.url_path_for("get_benchmark_request", request_id=request_id)
    return BenchmarkRequestPublic(**status, links={"self": link})


def _catalog_entries(conn: Connection, model_id: str) -> tuple[Any, list[Any]]:
    return models.get_model(conn, model_id), gpus.list_gpus(conn)


def _canonical_gpu(name: str, known: list[Any]) -> str:
    """The canonical name of a GPU given by name or alias (case-insensitive), else 404."""
    wanted = name.casefold()
    for gpu in known:
        if wanted in {gpu.name.casefold(), *(alias.casefold() for alias in gpu.aliases)}:
            return gpu.name
    names = [gpu.name for gpu in known]
    raise NotFound(
        f"GPU {name!r} is not known; known GPUs: {', '.join(names) or 'none'}",
        {"gpu": name, "known": names},
    )


def _requested_by(request: Request) -> str:
    principal = getattr(request.state, "principal", None)
    return getattr(principal, "subject", None) or "anonymous"


def _redis(request: Request) -> Redis:
    return request.app.state.redis


def _queue_down() -> Unavailable:
    return Unavailable("the benchmark queue is unavailable; try again shortly")
