"""Two revisions of factline measured in the same minutes: their 4 KB overheads, request by request.

This machine's speed swings by 25 % from hour to hour, more than most changes gain, so benches run an
hour apart cannot tell whether a change helped. Here a service runs from each revision's source tree,
both answered by one fake LLM, and sequential requests alternate between them, the order flipped every
round: each pair of requests sees the same machine. The paired difference (the revision's overhead
minus the base's, per round) is what a change gained; its median and quartiles are printed.

    python -m bench.paired BASE [REVISION] [--requests 60] [--latency-ms 1000]

REVISION defaults to the working tree, uncommitted changes included; BASE is any git revision.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx

from bench.run import (
    ROOT,
    article_4k,
    body,
    percentile,
    service_process,
    timed_extraction,
)
from bench.wire_client import WireClient
from tests.fakes.fake_llm import running_fake_llm

WORKING_TREE = "working tree"


@contextmanager
def source_tree(revision: str) -> Iterator[Path]:
    """The sources of `revision`: a detached git worktree, removed afterwards; the working tree itself
    for `WORKING_TREE`."""
    if revision == WORKING_TREE:
        yield ROOT
        return
    with tempfile.TemporaryDirectory(prefix="factline-paired-") as parent:
        path = Path(parent) / "tree"
        subprocess.run(["git", "worktree", "add", "--detach", str(path), revision], cwd=ROOT, check=True)
        try:
            yield path
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=ROOT, check=True)


def serve_command(tree: Path) -> tuple[str, ...]:
    """`factline serve` with `tree`'s packages ahead of the installed ones (the venv's dependencies)."""
    code = (
        f"import sys; sys.path.insert(0, {str(tree)!r}); from factline.cli import main; "
        "sys.argv = ['factline', 'serve']; sys.exit(main())"
    )
    return (sys.executable, "-c", code)


def paired_differences(base: list[float], other: list[float]) -> list[float]:
    """Round by round, the other revision's overhead minus the base's."""
    if len(base) != len(other):
        raise ValueError("paired samples differ in number")
    return [b - a for a, b in zip(base, other, strict=True)]


def quartiles(values: list[float]) -> tuple[float, float, float]:
    return percentile(values, 25), percentile(values, 50), percentile(values, 75)


def measure(revisions: tuple[str, str], requests: int, latency_ms: float) -> dict[str, list[float]]:
    """Overhead samples (ms) per revision, `requests` each, one warm-up each first."""
    samples: dict[str, list[float]] = {revision: [] for revision in revisions}
    with ExitStack() as stack:
        llm = stack.enter_context(running_fake_llm(latency_ms))
        stats = stack.enter_context(httpx.Client(timeout=60))
        connections = {}
        for revision in revisions:
            tree = stack.enter_context(source_tree(revision))
            base, _ = stack.enter_context(service_process(llm.base_url, command=serve_command(tree)))
            connections[revision] = WireClient(base)
        text = article_4k()
        for round_number in range(requests + 1):
            order = revisions if round_number % 2 else revisions[::-1]
            for revision in order:
                payload = body(text, f"paired {round_number}")
                elapsed, answering = timed_extraction(connections[revision], llm, stats, payload)
                if round_number:  # the first round warms up
                    samples[revision].append(elapsed - answering)
        for connection in connections.values():
            connection.close()
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", help="git revision to compare against")
    parser.add_argument(
        "revision", nargs="?", default=WORKING_TREE, help="git revision (default: the working tree)"
    )
    parser.add_argument("--requests", type=int, default=60, help="requests per revision")
    parser.add_argument("--latency-ms", type=float, default=1000, help="the fake LLM's latency")
    args = parser.parse_args()
    revisions = (args.base, args.revision)
    samples = measure(revisions, args.requests, args.latency_ms)
    for revision in revisions:
        q1, median, q3 = quartiles(samples[revision])
        mean = statistics.mean(samples[revision])
        print(f"{revision}: overhead p50 {median:.2f} ms (quartiles {q1:.2f}–{q3:.2f}, mean {mean:.2f})")
    q1, median, q3 = quartiles(paired_differences(samples[args.base], samples[args.revision]))
    print(f"{args.revision} − {args.base}, paired by round: median {median:+.2f} ms", end=" ")
    print(f"(quartiles {q1:+.2f} to {q3:+.2f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
