#!/bin/sh
# Bounded fuzzing of both readers, seeded from the shipped example and models; prints libFuzzer's summary lines.
# Usage: fuzz/run.sh [SECONDS per harness, default 90]. Run from the repository root.
set -e
SECONDS_EACH=${1:-90}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
WORK=${FUZZ_WORK:-${TMPDIR:-/tmp}/sspred-fuzz}
mkdir -p "$WORK/fasta-corpus" "$WORK/model-corpus" "$WORK/artifacts"
cp "$ROOT/src/sspred/examples/example.fasta" "$WORK/fasta-corpus/"
printf '>a desc\r\nmkv-LA*\r\n>b\nAXBZ\n' > "$WORK/fasta-corpus/crlf.fa"
gzip -c "$ROOT/src/sspred/examples/example.fasta" > "$WORK/fasta-corpus/example.fa.gz"
cp "$ROOT/src/sspred/models/fast.npz" "$WORK/model-corpus/"
export PYTHONPATH="$ROOT/src${PYTHONPATH:+:$PYTHONPATH}"
for target in fasta model; do
  script=$HERE/fuzz_$( [ $target = model ] && echo modelfile || echo fasta ).py
  echo "== $target: $SECONDS_EACH s"
  python "$script" "$WORK/$target-corpus" -max_total_time="$SECONDS_EACH" -rss_limit_mb=2048 \
    -max_len=$( [ $target = model ] && echo 65536 || echo 8192 ) -artifact_prefix="$WORK/artifacts/" 2>&1 \
    | grep -E "^(Done|==|INFO: Seed|#[0-9]+ *DONE)|crash|Error|Traceback" || true
done
