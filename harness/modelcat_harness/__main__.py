"""`python -m modelcat_harness`: under Dagster Pipes, or alone with `--job job.json`.

Exit status: 0 with a result (even when some requests failed: the check says so), 2 for a job
that is wrong, 1 for a run that could not produce a result. The reason is one line on stderr
and, under Pipes, the exception the launching step sees.
"""

import argparse
import json
import logging
import sys
from pathlib import Path

from dagster_pipes import PipesEnvVarParamsLoader

from modelcat_harness.job import HarnessError, JobError, parse_job
from modelcat_harness.pipes_io import open_pipes
from modelcat_harness.reporting import report_to_pipes, standalone_output
from modelcat_harness.runner import run_benchmark


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m modelcat_harness", description=__doc__)
    parser.add_argument("--job", type=Path, help="job JSON file (outside Dagster Pipes)")
    parser.add_argument(
        "--independent-check",
        action="store_true",
        help="also time one generate() call with CUDA events (perf_counter on CPU)",
    )
    args = parser.parse_args(argv)
    try:
        if args.job is not None:
            return _standalone(args.job, args.independent_check)
        if PipesEnvVarParamsLoader().is_dagster_pipes_process():
            return _under_pipes(args.independent_check)
        raise JobError("no job: pass --job job.json, or launch under Dagster Pipes")
    except HarnessError as error:
        print(f"modelcat-harness: {_kind(error)}: {error}", file=sys.stderr)
        return error.exit_code


def _standalone(path: Path, independent_check: bool) -> int:
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise
    try:
        raw = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise JobError(f"cannot read job file {path}: {error}") from error
    report = run_benchmark(parse_job(raw), logging.getLogger("modelcat_harness"), independent_check)
    json.dump(standalone_output(report), sys.stdout, indent=2)
    print()
    return 0


def _under_pipes(independent_check: bool) -> int:
    # Leaving the `with` on an exception sends it in Pipes' "closed" message: the launching
    # step raises with this reason instead of waiting for a result that will never come.
    with open_pipes() as pipes:
        try:
            job = parse_job(pipes.extras.get("job"))
            report = run_benchmark(job, pipes.log, independent_check)
        except HarnessError as error:
            pipes.log.error(f"{_kind(error)}: {error}")
            # Re-raised bare: the reason is in the message, and the "closed" message stays one
            # short line (a long chained traceback is a multi-KB line the reader must get whole).
            raise type(error)(str(error)) from None
        report_to_pipes(pipes, report)
    return 0


def _kind(error: HarnessError) -> str:
    return "invalid job" if isinstance(error, JobError) else "benchmark failed"


if __name__ == "__main__":
    sys.exit(main())
