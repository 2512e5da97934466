"""The Pipes session with the message writer the launching side asked for.

Under Pipes the orchestrator chooses the transport: its message reader's params reach this process
in the bootstrap environment. An S3 reader (the platform's object store, whose messages outlive a
reclaimed spot node) sends `bucket` + `key_prefix`: then messages go up in chunks through
`PipesS3MessageWriter`. Anything else gets dagster-pipes' default writer (a file or the pod's
stdout, as the params say).
"""

from typing import Any

from dagster_pipes import (
    PipesContext,
    PipesDefaultContextLoader,
    PipesDefaultMessageWriter,
    PipesEnvVarParamsLoader,
    PipesMessageWriter,
    PipesParamsLoader,
    PipesS3MessageWriter,
    open_dagster_pipes,
)

from modelcat_harness import s3

# Seconds between message chunk uploads: the launcher sees progress (and a dying pod's last
# words) this late at worst; the final chunk goes up when the session closes.
S3_CHUNK_INTERVAL_S = 5.0


def open_pipes(params_loader: PipesParamsLoader | None = None) -> PipesContext:
    """`open_dagster_pipes()` with `message_writer(...)`: use as `with open_pipes() as pipes:`."""
    loader = params_loader or PipesEnvVarParamsLoader()
    return open_dagster_pipes(params_loader=loader, message_writer=message_writer(loader))


def message_writer(loader: PipesParamsLoader) -> PipesMessageWriter:
    """PipesS3MessageWriter when the reader's params name a bucket, else the default writer."""
    params = loader.load_messages_params()
    if "bucket" not in params:
        return PipesDefaultMessageWriter()
    return PipesS3MessageWriter(
        client=s3.client(_job_endpoint(loader)), interval=S3_CHUNK_INTERVAL_S
    )


def _job_endpoint(loader: PipesParamsLoader) -> str | None:
    """The job's `s3_endpoint_url`, read ahead of the session (the writer is chosen first).

    A context that cannot be read here is left for `open_dagster_pipes` to report; boto3's own
    AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL then decide the endpoint.
    """
    try:
        with PipesDefaultContextLoader().load_context(loader.load_context_params()) as data:
            job: Any = (data.get("extras") or {}).get("job")
    except Exception:  # noqa: BLE001 - only a hint; the real load raises with its own reason
        return None
    endpoint = job.get("s3_endpoint_url") if isinstance(job, dict) else None
    return endpoint if isinstance(endpoint, str) and endpoint else None
