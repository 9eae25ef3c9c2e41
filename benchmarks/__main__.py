"""Every benchmark in one command, each printing ratios against a reference measured in the same run:

    python -m benchmarks            # about five minutes
    python -m benchmarks --quick    # a smoke run

1. the core forward against torch (benchmarks.core_speed),
2. a page rerun for 50, 500 and 5,000 tokens and the bytes each page's figures send (page_speed),
3. the app's cold start (cold_start),
4. the load test: 50 sessions at once against one alone (load_test).
"""

import subprocess
import sys

STEPS = [
    ("benchmarks.core_speed", [], ["--quick"]),
    ("benchmarks.page_speed", [], ["--quick"]),
    ("benchmarks.cold_start", [], ["--runs", "1"]),
    ("benchmarks.load_test", [], ["--sessions", "3", "--seconds", "6", "--interval", "1"]),
]


def main() -> None:
    quick = "--quick" in sys.argv[1:]
    failed = []
    for module, full_args, quick_args in STEPS:
        print(f"\n=== python -m {module} {' '.join(quick_args if quick else full_args)}".rstrip(), flush=True)
        if subprocess.run([sys.executable, "-m", module, *(quick_args if quick else full_args)]).returncode:
            failed.append(module)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
