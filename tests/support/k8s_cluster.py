"""An HTTP Kubernetes API on 127.0.0.1 (kmock's emulator) with a tiny kubelet behind it.

The launcher talks to it through the real `kubernetes` client, exactly as to a cluster. The
kubelet runs each created pod's container command as a real local process with the pod's env
(so the Pipes context and messages flow through the pod spec and the pod logs for real), and moves
the pod through Pending -> Running -> Succeeded/Failed. Per pod, a scenario says what the cluster
does to it: `run` it, `reclaim` its node mid-run (the pod vanishes), `evict` it mid-run
(DisruptionTarget + SIGKILL), keep it `pending` (no node), or `oom` it.
"""

import asyncio
import os
import re
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import kmock
import yaml

PODS = kmock.resource("v1/pods")
LOG_URL = re.compile(r"/api/v1/namespaces/(?P<ns>[^/]+)/pods/(?P<name>[^/]+)/log")
TICK_S = 0.02
# The line a benchmark process prints once its Pipes session is open (tests/support/
# pipes_fake_harness.py): from then on the pod is "mid-run", whichever way messages travel.
MID_RUN = b"fake harness: running"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _identity(container: dict[str, Any]) -> dict[str, Any]:
    """The fields every containerStatus must have (the client refuses a status without them)."""
    return {"name": container["name"], "image": container["image"], "imageID": "",
            "restartCount": 0}  # fmt: skip


@dataclass
class FakePod:
    key: tuple
    scenario: str
    logs: list[bytes] = field(default_factory=list)
    done: bool = False
    process: asyncio.subprocess.Process | None = None


class FakeCluster:
    """Pods created get scenarios from `scenarios` in order (the last one repeats)."""

    def __init__(self, scenarios: list[str]) -> None:
        self.scenarios = scenarios
        self.pods: dict[str, FakePod] = {}
        self.manifests: list[dict[str, Any]] = []  # every pod as the launcher created it
        self.url = ""
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    # --- the server thread ----------------------------------------------------------------
    def _serve(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        async with kmock.KubernetesEmulator() as api, kmock.Server(api) as server:
            api.resources["v1/pods"] = kmock.ResourceInfo(kind="Pod", namespaced=True)
            api["get", LOG_URL] << self._serve_logs
            self.api, self.url = api, str(server.url).rstrip("/")
            kubelet = asyncio.create_task(self._kubelet(api))
            self._ready.set()
            await self._stop.wait()
            kubelet.cancel()
            for pod in self.pods.values():
                if pod.process and pod.process.returncode is None:
                    pod.process.kill()
                    await pod.process.wait()

    async def _kubelet(self, api: Any) -> None:
        while True:
            for key, obj in list(api.objects.items()):
                name = key[2]
                if key[0] == PODS and name not in self.pods and not obj.deleted:
                    self.manifests.append(obj.raw)
                    index = min(len(self.pods), len(self.scenarios) - 1)
                    pod = self.pods[name] = FakePod(key, self.scenarios[index])
                    asyncio.create_task(self._run_pod(api, pod))
            await asyncio.sleep(TICK_S)

    async def _run_pod(self, api: Any, pod: FakePod) -> None:
        obj = api.objects[pod.key]
        unschedulable = {
            "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
            "message": "0/3 nodes are available: 3 Insufficient nvidia.com/gpu.",
        }  # fmt: skip
        obj.patch({"status": {"phase": "Pending", "conditions": [unschedulable]}})
        if pod.scenario == "pending":
            return
        if pod.scenario == "oom":
            self._terminate(obj, 137, "OOMKilled")
            return
        container = obj.raw["spec"]["containers"][0]
        env = {**os.environ, **{e["name"]: e.get("value", "") for e in container.get("env", [])}}
        pod.process = await asyncio.create_subprocess_exec(
            *container["command"], env=env, stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        running = {**_identity(container), "ready": True,
                   "state": {"running": {"startedAt": _now()}}}  # fmt: skip
        obj.patch({"status": {"phase": "Running", "conditions": None,
                              "containerStatuses": [running]}})  # fmt: skip
        assert pod.process.stdout is not None
        async for line in pod.process.stdout:
            pod.logs.append(f"{_now()} ".encode() + line)
            if pod.scenario in {"reclaim", "evict"} and MID_RUN in line:
                await self._reclaim(api, obj, pod)
                return
        code = await pod.process.wait()
        self._terminate(obj, code, "Completed" if code == 0 else "Error")
        pod.done = True

    async def _reclaim(self, api: Any, obj: Any, pod: FakePod) -> None:
        """The spot node goes: the pod is marked for disruption, killed, and (reclaim) removed."""
        assert pod.process is not None
        disruption = {"type": "DisruptionTarget", "status": "True",
                      "reason": "TerminationByKubelet", "message": "node shutdown"}  # fmt: skip
        obj.patch({"status": {"conditions": [disruption]}})
        pod.process.kill()
        await pod.process.wait()
        pod.done = True
        if pod.scenario == "reclaim":
            obj.delete()
        else:
            obj.patch({"status": {"reason": "Evicted", "message": "node is shutting down"}})
            self._terminate(obj, 137, "Error")

    def _terminate(self, obj: Any, code: int, reason: str) -> None:
        container = obj.raw["spec"]["containers"][0]
        ended = {**_identity(container), "ready": False,
                 "state": {"terminated": {"exitCode": code, "reason": reason}}}  # fmt: skip
        phase = "Succeeded" if code == 0 else "Failed"
        obj.patch({"status": {"phase": phase, "containerStatuses": [ended]}})

    async def _serve_logs(self, request: kmock.Request) -> AsyncIterator[bytes]:
        match = LOG_URL.fullmatch(request.url.path)
        pod = self.pods.get(match["name"]) if match else None
        # Starts the response at once: kmock serves a stream that yields nothing yet as if
        # there were no reaction (here: the pod object instead of its logs).
        yield b""
        sent = 0
        while pod is not None:
            while sent < len(pod.logs):
                yield pod.logs[sent]
                sent += 1
            if pod.done or str(request.params.get("follow")).lower() != "true":
                return
            await asyncio.sleep(TICK_S)

    # --- the test side --------------------------------------------------------------------
    def kubeconfig(self, directory: Path) -> Path:
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "kmock",
            "clusters": [{"name": "kmock", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": "not-checked"}}],
            "contexts": [{"name": "kmock", "context": {"cluster": "kmock", "user": "tester"}}],
        }  # fmt: skip
        path = directory / "kubeconfig.yaml"
        path.write_text(yaml.safe_dump(config))
        return path

    def live_pods(self) -> list[str]:
        found = self._call(lambda: [k[2] for k, o in self.api.objects.items() if not o.deleted])
        return found

    def pods_logs(self) -> list[bytes]:
        """Every log line of every pod, in creation order."""
        return self._call(lambda: [line for pod in self.pods.values() for line in pod.logs])

    def _call(self, fn: Any) -> Any:
        assert self._loop is not None

        async def run() -> Any:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result(timeout=10)

    @contextmanager
    def running(self) -> Iterator["FakeCluster"]:
        self._thread.start()
        if not self._ready.wait(timeout=30):
            raise RuntimeError("kmock did not start")
        try:
            yield self
        finally:
            assert self._loop is not None and self._stop is not None
            self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout=30)
