"""How long redaction takes on 10 MB of text: prose, and issue 24's adversarial near-misses.

Redaction scrubs every captured prompt and answer (and every eval case's content in
recordings), so it must stay linear: the naive email pattern took 10.6 s on 80,000
characters. Prints one line per input, `name  MB  seconds  MB/s`, for the squad's patterns
(`config/observability.yaml` of the current directory, or the library's defaults) with the
secret values of this environment, and with `--naive` the naive patterns on the small
adversarial inputs for reference.

    .venv/bin/python benchmarks/library/redaction.py [--mb 10] [--naive]
"""

import argparse
import time
from pathlib import Path

from squadkit.observability.config import load_observability_config
from squadkit.observability.redaction import Redactor, secret_env_values

NAIVE = (
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    r"\b(?:sk|pk|rk)-[A-Za-z0-9_\-]{8,}",
    r"\bAKIA[0-9A-Z]{16}\b",
    r"(?i:bearer)\s+[A-Za-z0-9._\-]{8,}",
)
PROSE = (
    "Hello Ann, I was charged twice for order 1234; mail me at ann.lee@example.com or call. "
    "The integration uses key sk-abcdefgh12345678 and Bearer abc.def-ghi_jkl, see the log. "
)


def inputs(size: int) -> dict[str, str]:
    """10 MB (or `size` characters) of each kind of text; the 80,000-character near-misses."""
    adversarial = "a@a.a" * 16_000  # 80,000 characters of near-misses, as in issue 24
    return {
        "prose with addresses and keys": (PROSE * (size // len(PROSE) + 1))[:size],
        "prose with 80k near-misses": (PROSE * (size // len(PROSE)))[: size - 80_000] + adversarial,
        "one run of letters": "a" * size,
        "a@a.a repeated": ("a@a.a " * (size // 6 + 1))[:size],
        "one address, a dotted domain": "a@" + "a." * (size // 2 - 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=10.0, help="size of each input in MB")
    parser.add_argument("--naive", action="store_true", help="also the naive patterns, 80k")
    args = parser.parse_args()
    config = load_observability_config(Path("config/observability.yaml"))
    redactor = Redactor(config.redaction.patterns, secrets=secret_env_values())
    size = int(args.mb * 1_000_000)
    print(f"{'input':<34} {'MB':>6} {'seconds':>8} {'MB/s':>7}")
    for name, text in inputs(size).items():
        started = time.perf_counter()
        redactor(text)
        elapsed = time.perf_counter() - started
        megabytes = len(text) / 1e6
        print(f"{name:<34} {megabytes:6.2f} {elapsed:8.3f} {megabytes / elapsed:7.1f}")
    if args.naive:
        naive = Redactor(NAIVE)
        for name, text in {"naive: 80k letters": "a" * 80_000}.items():
            started = time.perf_counter()
            naive(text)
            elapsed = time.perf_counter() - started
            print(
                f"{name:<34} {len(text) / 1e6:6.2f} {elapsed:8.3f} {len(text) / 1e6 / elapsed:7.1f}"
            )


if __name__ == "__main__":
    main()
