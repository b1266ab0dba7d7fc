"""Cloud Run services: vCPU and memory by billing mode, requests, idle minimum instances; and
Cloud Run jobs: vCPU and memory while an execution runs."""

from __future__ import annotations

import re
from functools import partial
from typing import Any

from vidgo_infra.cost.model import FIXED, USAGE, Context

SERVICE = "gcp:cloudrunv2/service:Service"
JOB = "gcp:cloudrunv2/job:Job"
# Cloud Run's own defaults, used when the program leaves a value out.
DEFAULT_CPU, DEFAULT_MEMORY = "1", "512Mi"


def parse_cpu(value: str | float) -> float:
    """Cloud Run CPU limits: "2", "0.5" or millicores "1000m" → vCPUs."""
    text = str(value).strip()
    try:
        return float(text[:-1]) / 1000 if text.endswith("m") else float(text)
    except ValueError:
        raise ValueError(f"not a CPU limit: {value!r} (expected 2, 0.5 or 1000m)") from None


_BYTES = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "K": 1e3, "M": 1e6}
_BYTES |= {"G": 1e9, "T": 1e12, "": 1}


def parse_memory_gib(value: str | float) -> float:
    """Kubernetes-style quantities ("512Mi", "2Gi", "1G", bytes) → GiB, the billing unit."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(Ki|Mi|Gi|Ti|k|K|M|G|T|)\s*", str(value))
    if not match:
        raise ValueError(f"not a memory limit: {value!r} (expected 512Mi, 2Gi, 1G, ...)")
    return float(match.group(1)) * _BYTES[match.group(2)] / 2**30


def cloud_run_service(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    template = resource["inputs"].get("template") or {}
    containers = template.get("containers") or [{}]
    limits = [(c.get("resources") or {}).get("limits") or {} for c in containers]
    cpu = sum(parse_cpu(limit.get("cpu", DEFAULT_CPU)) for limit in limits)
    memory = sum(parse_memory_gib(limit.get("memory", DEFAULT_MEMORY)) for limit in limits)
    minimum = int((template.get("scaling") or {}).get("minInstanceCount") or 0)
    bill = partial(ctx.charge, "Cloud Run", name, region=ctx.region_of(resource))
    ctx.assume(
        "Cloud Run: an instance is busy for requests x mean duration, as if no two requests "
        "overlapped (an upper bound at concurrency above 1); scale-out beyond the minimum "
        "instances and instances kept up after their last request are not modelled."
    )
    profile = service_usage(ctx, name, resource)
    if profile is None:
        why = f"the usage profile has no requests for {name} (only api_* and web_*)"
        ctx.unpriced("Cloud Run", name, "requests", why, USAGE)
    requests, mean_seconds = profile or (0, 0.0)
    busy = requests * mean_seconds
    if request_based(containers[0]):
        _request_based(ctx, bill, cpu, memory, minimum, requests, busy)
    else:
        _instance_based(ctx, bill, cpu, memory, minimum, busy)


def request_based(container: dict[str, Any]) -> bool:
    """`cpuIdle` decides the billing: true is request-based billing, false instance-based.

    Cloud Run v2 defaults it to true only when `resources` is not set at all; with resources set
    and cpuIdle left out, CPU is always allocated, which is instance-based billing.
    """
    resources = container.get("resources")
    return True if resources is None else bool(resources.get("cpuIdle", False))


def service_usage(ctx: Context, name: str, resource: dict[str, Any]) -> tuple[int, float] | None:
    """(requests, mean seconds) from the usage profile: api_* for the API, web_* for the site."""
    for key in (resource.get("parent"), name.split("-")[0]):
        if key in ("api", "web"):
            usage = ctx.usage
            return getattr(usage, f"{key}_requests"), getattr(usage, f"{key}_mean_request_seconds")
    return None


def _request_based(ctx, bill, cpu, memory, minimum, requests, busy) -> None:
    bill("vCPU serving requests", "cloud_run.request.cpu", cpu * busy, USAGE)
    bill("memory serving requests", "cloud_run.request.memory", memory * busy, USAGE)
    bill("requests", "cloud_run.request.requests", requests, USAGE)
    if minimum:
        # Minimum instances are billed at the idle rate for the time no request keeps them busy.
        idle = max(minimum * ctx.seconds - busy, 0)
        shape = f"{minimum} x {cpu:g} vCPU, {memory:g} GiB"
        idle_cpu, idle_memory = "cloud_run.request.idle_cpu", "cloud_run.request.idle_memory"
        bill("idle min instances: vCPU", idle_cpu, cpu * idle, FIXED, detail=shape)
        bill("idle min instances: memory", idle_memory, memory * idle, FIXED, detail=shape)


def _instance_based(ctx, bill, cpu, memory, minimum, busy) -> None:
    # Instance-based billing charges an instance's whole life and has no per-request fee.
    always = minimum * ctx.seconds
    extra = max(busy - always, 0)
    for part, seconds, kind in (
        ("min instances", always, FIXED),
        ("extra instances", extra, USAGE),
    ):
        if seconds or kind == FIXED:
            suffix = f"{part}, instance-based"
            bill(f"vCPU, {suffix}", "cloud_run.instance.cpu", cpu * seconds, kind)
            bill(f"memory, {suffix}", "cloud_run.instance.memory", memory * seconds, kind)


def cloud_run_job(ctx: Context, name: str, resource: dict[str, Any]) -> None:
    """A job costs only while its tasks run: vCPU and memory for executions x tasks x duration,
    at the instance-based rates (Cloud Run pricing, https://cloud.google.com/run/pricing: jobs
    have no request fee and no idle time)."""
    template = resource["inputs"].get("template") or {}
    tasks = int(template.get("taskCount") or 1)
    containers = (template.get("template") or {}).get("containers") or [{}]
    limits = [(c.get("resources") or {}).get("limits") or {} for c in containers]
    cpu = sum(parse_cpu(limit.get("cpu", DEFAULT_CPU)) for limit in limits)
    memory = sum(parse_memory_gib(limit.get("memory", DEFAULT_MEMORY)) for limit in limits)
    usage = ctx.usage
    seconds = usage.job_runs * tasks * usage.job_run_seconds
    ctx.assume(
        f"Cloud Run jobs: {usage.job_runs} executions a month of {usage.job_run_seconds:g} s each "
        "(a migration per release), billed at the instance-based vCPU and memory rates."
    )
    bill = partial(ctx.charge, "Cloud Run", name, region=ctx.region_of(resource))
    detail = f"{usage.job_runs} runs x {tasks} task x {usage.job_run_seconds:g} s"
    bill("job vCPU", "cloud_run.instance.cpu", cpu * seconds, USAGE, detail=detail)
    bill("job memory", "cloud_run.instance.memory", memory * seconds, USAGE, detail=detail)
