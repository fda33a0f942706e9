#!/bin/sh
# The token lengths (characters / 4) of the real final proofs in SHARED/dsm2/outputs, one per
# line: bench/pipeline's task lengths. Only the numbers travel (to the GPU machine, in the
# portable bundle); the reference data stays where it is.
set -eu
shared=${1:-../shared}
python3 - "$shared" <<'PY'
import glob, json, sys
for path in sorted(glob.glob(sys.argv[1] + "/dsm2/outputs/*.jsonl")):
    for line in open(path):
        print(len(json.loads(line)["model_prediction"]["proof"]) // 4)
PY
