"""Time our TOPSIS and Pareto filter against the libraries they replace, on the same matrices.

- TOPSIS, 1,000,000 x 6, vs `pymcdm.methods.TOPSIS(vector_normalization)`; top-k at 1M too.
- Pareto, 10,000 x 6, vs `paretoset.paretoset` (numba BNL). Its numba path compiles on the first
  call (seconds), so it is warmed up first and the compile time is reported separately.

Best of 5 after a warm-up call, one fixed seed. Criteria come from a latent "model size" and
"serving efficiency" per row, so they are correlated the way real ones are: quality grows with
size, latency, memory, energy and cost grow with size and shrink with efficiency; the front
size is printed. A second Pareto case is the worst one, a pure trade-off where every point is
non-dominated (points on a simplex). Answers are checked to agree before any time is printed.

    .venv/bin/python bench/bench_mcda.py
"""

import time
from collections.abc import Callable

import numpy as np
from paretoset import paretoset
from pymcdm.methods import TOPSIS
from pymcdm.normalizations import vector_normalization

from assets.recommendations.pareto import pareto_mask
from assets.recommendations.topsis import top_k, topsis

SEED = 20260101
# quality, latency_p95_ms, throughput_per_gpu, memory_gb, energy_per_output_j, cost_spot
BENEFIT = np.array([True, False, True, False, False, False])
WEIGHTS = np.array([0.3, 0.2, 0.15, 0.1, 0.1, 0.15])


def candidates(n: int, rng: np.random.Generator) -> np.ndarray:
    size, efficiency = rng.normal(size=n), rng.normal(size=n)

    def noise(scale: float) -> np.ndarray:
        return scale * rng.normal(size=n)

    return np.column_stack(
        [
            np.clip(60 + 8 * size + noise(3), 0, 100),
            np.exp(2.5 + 0.5 * size - 0.4 * efficiency + noise(0.2)),
            np.exp(7.5 - 0.6 * size + 0.5 * efficiency + noise(0.2)),
            np.exp(3.0 + 0.8 * size + noise(0.1)),
            np.exp(-1.5 + 0.6 * size - 0.5 * efficiency + noise(0.2)),
            np.exp(-1.0 + 0.6 * size - 0.5 * efficiency + noise(0.3)),
        ]
    )


def pure_trade_off(n: int, rng: np.random.Generator) -> np.ndarray:
    shares = rng.dirichlet(np.ones(BENEFIT.size), size=n)  # each row sums to 1
    return np.where(BENEFIT, 1 - shares, shares)


def best_of(runs: int, call: Callable[[], object]) -> float:
    call()  # warm-up: caches, page faults, lazy imports
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(SEED)
    big = candidates(1_000_000, rng)
    small = candidates(10_000, rng)
    simplex = pure_trade_off(10_000, rng)
    sense = ["max" if b else "min" for b in BENEFIT]

    def run_pymcdm() -> np.ndarray:
        # Validation off: it only warns (e.g. about dominated rows) and would time the checks.
        method = TOPSIS(normalization_function=vector_normalization)
        return method(big, WEIGHTS, np.where(BENEFIT, 1, -1), validation=False)

    ours, reference = topsis(big, WEIGHTS, BENEFIT), run_pymcdm()
    assert np.allclose(ours, reference, rtol=1e-10, atol=1e-12), "TOPSIS scores differ"
    assert (top_k(ours, 100) == np.argsort(-reference, kind="stable")[:100]).all()

    start = time.perf_counter()
    expected = paretoset(small, sense=sense, distinct=False)
    compile_s = time.perf_counter() - start
    front = pareto_mask(small, BENEFIT)
    assert (front == expected).all(), "Pareto fronts differ"
    assert pareto_mask(simplex, BENEFIT).all()
    assert paretoset(simplex, sense=sense, distinct=False).all()

    rows = [
        ("TOPSIS 1,000,000 x 6", best_of(5, lambda: topsis(big, WEIGHTS, BENEFIT)),
         "pymcdm", best_of(5, run_pymcdm)),
        ("top-10 of 1,000,000 scores", best_of(5, lambda: top_k(ours, 10)),
         "np.argsort", best_of(5, lambda: np.argsort(-ours)[:10])),
        ("Pareto 10,000 x 6", best_of(5, lambda: pareto_mask(small, BENEFIT)),
         "paretoset", best_of(5, lambda: paretoset(small, sense=sense, distinct=False))),
        ("Pareto 10,000 x 6, all front", best_of(5, lambda: pareto_mask(simplex, BENEFIT)),
         "paretoset", best_of(5, lambda: paretoset(simplex, sense=sense, distinct=False))),
    ]  # fmt: skip
    print(f"{'task':<30}{'ours (s)':>11}  {'baseline':<11}{'baseline (s)':>13}{'ratio':>8}")
    for task, mine, baseline, theirs in rows:
        print(f"{task:<30}{mine:>11.4f}  {baseline:<11}{theirs:>13.4f}{theirs / mine:>7.1f}x")
    print(f"Pareto front (correlated): {int(front.sum())} of {len(small)} rows non-dominated")
    print(f"paretoset numba first call (compile, excluded above): {compile_s:.1f} s")
    print("answers agree: TOPSIS scores (allclose, same top 100), Pareto masks (identical)")


if __name__ == "__main__":
    main()
