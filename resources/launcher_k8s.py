"""The Kubernetes launcher: the harness as a pod on a spot (or on-demand) GPU pool.

Built on `PipesK8sClient` with two changes that the stock client cannot be configured into:

- a bounded Pending phase: the stock client waits up to 24 h for a pod that never gets a node
  (and waits the same 24 h for a pod deleted before it started). Here a pod that has not started
  after `pending_timeout_s` is deleted and counted as a capacity miss.
- the pod is read back before it is deleted, so the retry loop can tell a reclaimed spot node
  (vanished, evicted, `DisruptionTarget`, SIGKILL) from the benchmark's own failure.

Pipes messages travel through the object store when pods can reach it (S3: they outlive a
reclaimed node and its logs), else through the pod's logs. The pod gets the store's endpoint and
region, never its keys: those come from IRSA / Workload Identity, or from the Secret named by
`credentials_secret` (the pod's `envFrom`, so the spec holds its name, not its values).
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import dagster as dg
import kubernetes
from dagster_k8s.client import DagsterKubernetesClient
from dagster_k8s.pipes import PipesK8sClient, PipesK8sPodLogsMessageReader
from pydantic import Field

from assets.benchmarks.podspec import Cloud, PodRequest, label_value, pod_template
from assets.benchmarks.preemption import FATAL_WAITING, Classification, classify, observe_pod
from resources.launcher import (
    HARNESS_MODULE,
    JOB_EXTRAS_KEY,
    AttemptReport,
    BenchmarkLauncherResource,
    LaunchRequest,
)
from resources.launcher_pipes import RecordsHarnessError


class PodLogsMessageReader(RecordsHarnessError, PipesK8sPodLogsMessageReader):
    """Messages from the pod's logs (no shared object store), keeping the failure reason."""


class PodNotStarted(Exception):
    """The pod ended, vanished or stayed Pending before its container ever ran."""

    def __init__(self, message: str, timed_out: bool = False) -> None:
        super().__init__(message)
        self.timed_out = timed_out


class PodGone(Exception):
    """The pod was deleted under us (a reclaimed node, or someone's kubectl delete)."""


class BoundedPipesK8sClient(PipesK8sClient):
    """PipesK8sClient that gives up on a pod not started within `pending_timeout_s` and
    remembers the name of the pod it launched."""

    def __init__(self, *, pending_timeout_s: float, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.pending_timeout_s = pending_timeout_s
        self.pod_name: str | None = None
        self.started = False

    @contextmanager
    def consume_pod_logs(  # the hook run() calls between creating the pod and waiting on it
        self, context: Any, client: DagsterKubernetesClient, namespace: str, pod_name: str,
        **kwargs: Any,
    ) -> Iterator[None]:  # fmt: skip
        self.pod_name = pod_name
        # Every stock wait starts by waiting up to 24 h for the pod "to launch" and takes a
        # vanished pod for one not created yet: this client's waits give up on a missing pod.
        client.wait_for_pod = self._bounded_wait(client)  # type: ignore[method-assign]
        self._wait_until_started(client, namespace, pod_name)
        with super().consume_pod_logs(
            context=context, client=client, namespace=namespace, pod_name=pod_name, **kwargs
        ):
            yield

    def _bounded_wait(self, client: DagsterKubernetesClient) -> Any:
        stock_wait = client.wait_for_pod

        def wait_for_pod(pod_name: str, namespace: str, **kwargs: Any) -> None:
            if _read_pod(client.core_api, namespace, pod_name) is None:
                raise PodGone(f"pod {pod_name} vanished")
            kwargs.setdefault("pod_launch_timeout", self.pending_timeout_s)
            stock_wait(pod_name, namespace, **kwargs)

        return wait_for_pod

    def _wait_until_started(
        self, client: DagsterKubernetesClient, namespace: str, pod_name: str
    ) -> None:
        deadline = client.timer() + self.pending_timeout_s
        while True:
            pod = _read_pod(client.core_api, namespace, pod_name)
            if pod is None:
                raise PodGone("the pod vanished before it started")
            observed = observe_pod(client.core_api.api_client.sanitize_for_serialization(pod))
            if observed.started:
                self.started = True
                return
            if observed.waiting_reason in FATAL_WAITING:
                return  # the stock wait raises with the reason and the pod's events
            if observed.phase in {"Failed", "Succeeded"}:
                raise PodNotStarted(f"pod ended before it started: {observed.reason}")
            if client.timer() >= deadline:
                raise PodNotStarted(observed.message or "Pending", timed_out=True)
            client.sleeper(self.poll_interval)


def _read_pod(core_api: kubernetes.client.CoreV1Api, namespace: str, name: str) -> Any:
    try:
        return core_api.read_namespaced_pod(name, namespace)
    except kubernetes.client.ApiException as error:
        if error.status == 404:
            return None
        raise


class K8sBenchmarkLauncher(BenchmarkLauncherResource):
    """Runs the harness image as a pod through Dagster Pipes (`PipesK8sClient`)."""

    image: str
    command: list[str] = Field(default_factory=lambda: ["python", "-m", HARNESS_MODULE])
    namespace: str = "model-catalog"
    cloud: Cloud = "eks"
    kubeconfig_file: str | None = None
    kube_context: str | None = None
    load_incluster_config: bool | None = None  # None: in-cluster when running in a pod
    pending_timeout_s: float = 900.0
    poll_interval_s: float = 10.0
    cpu_per_gpu: int = 8
    memory_gib_per_gpu: int = 64
    service_account: str | None = None
    # The Secret holding the pod's S3 keys and HF_TOKEN, where no IRSA / Workload Identity does.
    credentials_secret: str | None = None
    env: dict[str, str] = Field(default_factory=dict)  # no secrets: the pod spec is readable

    def _client(self) -> tuple[BoundedPipesK8sClient, Any]:
        # Either reader records the harness's failure reason (`harness_error`).
        reader: Any = (
            self.object_store.pipes_message_reader(interval_s=self.poll_interval_s)
            if self.object_store.reachable_from_pods
            else PodLogsMessageReader()
        )
        client = BoundedPipesK8sClient(
            pending_timeout_s=self.pending_timeout_s,
            env={**self.object_store.pipes_env(with_credentials=False), **self.env},
            message_reader=reader,
            load_incluster_config=self.load_incluster_config,
            kubeconfig_file=self.kubeconfig_file,
            kube_context=self.kube_context,
            poll_interval=self.poll_interval_s,
        )
        return client, reader

    def pod_request(self, context: Any, request: LaunchRequest, pricing: Any) -> PodRequest:
        job = request.job
        labels = {"model": str(job.get("model_id", "")), "run-id": context.run.run_id,
                  **request.labels}  # fmt: skip
        annotations = {"model-catalog/model-id": str(job.get("model_id", "")),
                       "model-catalog/revision": str(job.get("revision") or "")}  # fmt: skip
        return PodRequest(
            image=self.image, command=self.command, gpu=request.gpu, num_gpus=request.num_gpus,
            cloud=self.cloud, pricing=pricing, max_runtime_s=request.max_runtime_s,
            labels=labels, annotations=annotations, cpu_per_gpu=self.cpu_per_gpu,
            memory_gib_per_gpu=self.memory_gib_per_gpu, service_account=self.service_account,
            credentials_secret=self.credentials_secret,
        )  # fmt: skip

    def _run_attempt(
        self, context: dg.AssetExecutionContext, request: LaunchRequest, pricing: str
    ) -> AttemptReport:
        metadata, spec = pod_template(self.pod_request(context, request, pricing))
        client, reader = self._client()
        notes: dict[str, Any] = {}
        results: tuple = ()
        try:
            invocation = client.run(
                context=context,
                extras={JOB_EXTRAS_KEY: request.job},
                namespace=self.namespace,
                base_pod_meta=metadata,
                base_pod_spec=spec,
                # Never wait past the pod's own deadline plus its time to get a node.
                pod_wait_timeout=request.max_runtime_s + self.pending_timeout_s + 60,
                # Read back below first: a deleted pod cannot say why it ended.
                delete_pod_on_completion=False,
            )
            results = tuple(invocation.get_results())
        except PodNotStarted as error:
            notes = {"pending_timed_out": error.timed_out, "launcher_error": str(error)}
        except Exception as error:  # noqa: BLE001 - classified from the pod's state below
            notes = {"launcher_error": f"{type(error).__name__}: {error}"}
        notes["harness_error"] = reader.harness_error
        verdict = self._inspect_and_delete(client, notes)
        context.log.info(f"pod {client.pod_name} ({pricing}, {label_value(request.gpu)}): "
                         f"{verdict.verdict}, {verdict.reason}")  # fmt: skip
        return AttemptReport(verdict, results if verdict.verdict == "succeeded" else (),
                             client.pod_name)  # fmt: skip

    def _inspect_and_delete(
        self, client: BoundedPipesK8sClient, notes: dict[str, Any]
    ) -> Classification:
        if client.pod_name is None:  # refused at creation (invalid, forbidden, quota)
            return Classification("failed", notes.get("launcher_error") or "no pod created")
        core_api = kubernetes.client.CoreV1Api()
        pod = _read_pod(core_api, self.namespace, client.pod_name)
        if pod is None:
            verdict = classify(observe_pod(None, started=client.started, **notes))
        else:
            raw = core_api.api_client.sanitize_for_serialization(pod)
            verdict = classify(observe_pod(raw, **notes))
        if pod is not None:
            try:
                core_api.delete_namespaced_pod(client.pod_name, self.namespace)
            except kubernetes.client.ApiException as error:
                if error.status != 404:  # already gone is what we wanted
                    raise
        return verdict
