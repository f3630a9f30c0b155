"""A closed-loop load generator: `concurrency` workers call one scenario back to back for a while.
It runs in a process of its own, so the load does not share an interpreter with what it measures."""

from __future__ import annotations

import asyncio
import dataclasses
import multiprocessing
import time
from collections.abc import Awaitable, Callable

from bench.stats import Result

Call = Callable[[int], Awaitable[None]]  # one request; the argument is a per-request sequence number


async def drive(
    make_call: Callable[[], Awaitable[tuple[Call, Callable[[], Awaitable[None]]]]],
    concurrency: int,
    seconds: float,
    warmup_s: float,
) -> Result:
    call, close = await make_call()
    latencies: list[float] = []
    counters = {"requests": 0, "errors": 0, "seq": 0}
    measuring = asyncio.Event()

    async def worker(deadline: float) -> None:
        while (now := time.perf_counter()) < deadline:
            counters["seq"] += 1
            try:
                await call(counters["seq"])
                ok = True
            except Exception:
                ok = False
            if measuring.is_set():
                counters["requests"] += 1
                if ok:
                    latencies.append((time.perf_counter() - now) * 1000)
                else:
                    counters["errors"] += 1

    start = time.perf_counter()
    tasks = [asyncio.create_task(worker(start + warmup_s + seconds)) for _ in range(concurrency)]
    await asyncio.sleep(warmup_s)
    measuring.set()
    began = time.perf_counter()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - began
    await close()
    return Result(counters["requests"], counters["errors"], elapsed, latencies, calls=counters["seq"])


def _child(target: str, args: dict, concurrency: int, seconds: float, warmup_s: float, out) -> None:
    import importlib

    module, _, name = target.partition(":")
    factory = getattr(importlib.import_module(module), name)
    started = time.process_time()
    result = asyncio.run(drive(lambda: factory(**args), concurrency, seconds, warmup_s))
    out.send(dataclasses.replace(result, cpu_s=time.process_time() - started))


def run_in_process(target: str, args: dict, concurrency: int, seconds: float, warmup_s: float = 1.0) -> Result:
    """Runs `target` ("module:factory", an async factory returning (call, close)) in a new process."""
    receiver, sender = multiprocessing.Pipe(duplex=False)
    process = multiprocessing.get_context("spawn").Process(
        target=_child, args=(target, args, concurrency, seconds, warmup_s, sender)
    )
    process.start()
    result = receiver.recv()
    process.join()
    return result
