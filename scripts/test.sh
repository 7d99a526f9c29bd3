#!/usr/bin/env bash
# The whole test suite: every crate, every test binary, doc tests. Uses cargo-nextest when
# installed (faster on 2 cores), plain cargo test otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
export WARD_SHARED_DATA="${WARD_SHARED_DATA:-$(cd .. && pwd)/shared/data}"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --all-features --locked --no-fail-fast
  cargo test --workspace --all-features --locked --doc
else
  cargo test --workspace --all-features --locked --no-fail-fast
fi
