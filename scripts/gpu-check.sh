#!/usr/bin/env bash
# The scaling-out checks of `npm test` (test/unit/pytorchTraining.test.ts), on CUDA: on a machine with an
# NVIDIA GPU and torch built with CUDA, after `npm ci`, run
#
#   scripts/gpu-check.sh                 # RECURRENT_TORCH_PYTHON=python to pick the interpreter (default python3)
#
# Our engine trains a small LSTM 20 updates and exports it for PyTorch (recurrent export --pytorch); then
#   1. train.py on one GPU (float32) makes 50 updates from it, which must follow our engine's loss update by update;
#   2. our engine resumes train.py's checkpoint and train.py goes on from it: the same, the other way;
#   3. torchrun with one process per GPU (NCCL; at most 8) makes the same 50 updates, and its checkpoint trains here;
#   4. train.py in mixed precision (bf16 where the GPU has it, else fp16) makes 50 updates whose loss falls.
# It prints one line per check and a last line `gpu-check: N passed, N failed`, and exits non-zero if one
# failed. Without a GPU it says so and exits 0 having checked nothing. RECURRENT_GPU_CHECK_DEVICE=cpu
# runs the same checks on the CPU (gloo, two processes, no mixed precision): how the script itself is tested.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${RECURRENT_TORCH_PYTHON:-python3}"
DEVICE="${RECURRENT_GPU_CHECK_DEVICE:-cuda}"
RECURRENT=(node bin/recurrent.cjs)
TOL=1e-4 # relative loss difference: float32 kernels of other libraries sum in other orders (CPU: 2e-7 measured)
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

[ -f dist/cli.cjs ] || { echo "gpu-check: no dist/cli.cjs: run npm ci (or npm run build) first" >&2; exit 2; }
if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  echo "gpu-check: $PYTHON cannot import torch (set RECURRENT_TORCH_PYTHON to a Python that has it)" >&2
  exit 2
fi
if [ "$DEVICE" = cuda ]; then
  GPUS="$("$PYTHON" -c 'import torch; print(torch.cuda.device_count() if torch.cuda.is_available() else 0)')"
  if [ "$GPUS" = 0 ]; then
    echo "gpu-check: no CUDA GPU visible to $PYTHON (torch $("$PYTHON" -c 'import torch; print(torch.__version__)')): nothing checked"
    exit 0
  fi
  PROCESSES=$((GPUS < 8 ? GPUS : 8))
  AMP="$("$PYTHON" -c 'import torch; print("bf16" if torch.cuda.is_bf16_supported() else "fp16")')"
  "$PYTHON" -c 'import torch; p = torch.cuda.get_device_properties(0); print(f"gpu-check: {torch.cuda.device_count()} x {p.name} ({p.total_memory // 2**20} MiB), torch {torch.__version__}, CUDA {torch.version.cuda}, cuDNN {torch.backends.cudnn.version()}")'
else
  PROCESSES=2
  AMP=""
  echo "gpu-check: on the CPU (RECURRENT_GPU_CHECK_DEVICE=cpu), torch $("$PYTHON" -c 'import torch; print(torch.__version__)')"
fi

TEXT="$WORK/sotu.txt"
cp sample-workspace/state-of-the-union-1994.txt "$TEXT"
"${RECURRENT[@]}" train "$TEXT" --cell lstm --hidden 64 --layers 2 --embedding 16 --batch 8 --k1 32 --k2 48 --clip 1 \
  --reset-every 2000 --steps 20 --seed 5 --threads 1 --sample-every 0 --out "$WORK/start.safetensors" 2>/dev/null
"${RECURRENT[@]}" export "$WORK/start.safetensors" --pytorch "$WORK/torch" --text "$TEXT" 2>/dev/null
TRAIN_PY="$WORK/torch/train.py"

# torch 1.13 on Python 3.11 (Debian 12) parses torchrun's default --redirects/--tee of 0 to None and stops.
TORCHRUN=(-m torch.distributed.run --nnodes=1 "--nproc_per_node=$PROCESSES" --master_addr=127.0.0.1 \
  "--master_port=$("$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')")
if [ "$("$PYTHON" -c "from torch.distributed.elastic.multiprocessing.api import Std; print(Std.from_str('0'))")" = None ]; then
  TORCHRUN+=(--redirects 2 --tee 2)
fi

passed=0
failed=0
# compare WHAT REFERENCE.jsonl CANDIDATE.jsonl: the losses of the updates both made, update by update.
compare() {
  if "$PYTHON" - "$@" "$TOL" <<'PY'; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
import json, sys
what, a, b, tol = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
load = lambda p: {m["step"]: m for m in map(json.loads, open(p)) if m["type"] == "metrics"}
x, y = load(a), load(b)
steps = sorted(set(x) & set(y))
worst = max(abs(x[s]["lossNats"] - y[s]["lossNats"]) / x[s]["lossNats"] for s in steps) if steps else float("inf")
ok = len(steps) == 50 and worst <= tol
print(f"{what:<44} {len(steps)} updates, loss {x[steps[0]]['lossNats']:.4f} -> {x[steps[-1]]['lossNats']:.4f} nats, "
      f"worst difference {worst:.1e} relative (bound {tol:g})  {'ok' if ok else 'FAILED'}")
sys.exit(0 if ok else 1)
PY
}
check() { # check WHAT COMMAND...: passes when the command succeeds
  local what="$1"
  shift
  if "$@" >"$WORK/check.log" 2>&1; then
    printf '%-44s ok\n' "$what"
    passed=$((passed + 1))
  else
    printf '%-44s FAILED\n' "$what"
    sed 's/^/    /' "$WORK/check.log" | tail -20
    failed=$((failed + 1))
  fi
}

"${RECURRENT[@]}" train "$TEXT" --resume "$WORK/start.safetensors" --steps 50 --threads 1 --sample-every 0 \
  --metrics "$WORK/engine.jsonl" --out "$WORK/engine.safetensors" 2>/dev/null

# 1. Ours -> train.py on one device.
check "train.py, 1 $DEVICE process, fp32 runs" "$PYTHON" "$TRAIN_PY" "$TEXT" --device "$DEVICE" --steps 50 \
  --from "$WORK/start.safetensors" --out "$WORK/py1.safetensors" --metrics "$WORK/py1.jsonl"
compare "train.py, 1 $DEVICE process, from the engine" "$WORK/engine.jsonl" "$WORK/py1.jsonl"

# 2. train.py -> ours, against train.py going on.
check "engine resumes train.py's checkpoint" "${RECURRENT[@]}" train "$TEXT" --resume "$WORK/py1.safetensors" --steps 50 --threads 1 \
  --sample-every 0 --metrics "$WORK/back.jsonl" --out "$WORK/back.safetensors"
check "train.py goes on from its checkpoint" "$PYTHON" "$TRAIN_PY" "$TEXT" --device "$DEVICE" --steps 50 \
  --from "$WORK/py1.safetensors" --out "$WORK/py2.safetensors" --metrics "$WORK/py2.jsonl"
compare "engine from train.py's checkpoint" "$WORK/py2.jsonl" "$WORK/back.jsonl"

# 3. torchrun, one process per GPU.
check "torchrun, $PROCESSES $DEVICE processes runs" "$PYTHON" "${TORCHRUN[@]}" "$TRAIN_PY" "$TEXT" --device "$DEVICE" --steps 50 \
  --from "$WORK/start.safetensors" --out "$WORK/ddp.safetensors" --metrics "$WORK/ddp.jsonl"
compare "torchrun, $PROCESSES $DEVICE processes, from the engine" "$WORK/engine.jsonl" "$WORK/ddp.jsonl"
check "torchrun's checkpoint trains here" "${RECURRENT[@]}" train "$TEXT" --resume "$WORK/ddp.safetensors" --steps 10 --threads 1 \
  --sample-every 0 --out "$WORK/ddp-back.safetensors"

# 4. Mixed precision: not the same updates (that is the point of it), but training.
if [ -n "$AMP" ]; then
  check "train.py, 1 GPU, $AMP runs" "$PYTHON" "$TRAIN_PY" "$TEXT" --device cuda --precision "$AMP" --steps 50 \
    --from "$WORK/start.safetensors" --out "$WORK/amp.safetensors" --metrics "$WORK/amp.jsonl"
  if "$PYTHON" - "$WORK/amp.jsonl" "$WORK/engine.jsonl" "$AMP" <<'PY'; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
import json, sys
load = lambda p: [m for m in map(json.loads, open(p)) if m["type"] == "metrics"]
amp, ref = load(sys.argv[1]), {m["step"]: m["lossNats"] for m in load(sys.argv[2])}
mean = lambda xs: sum(m["lossNats"] for m in xs) / len(xs)
falls = len(amp) == 50 and mean(amp[-5:]) < mean(amp[:5])
worst = max(abs(m["lossNats"] - ref[m["step"]]) / ref[m["step"]] for m in amp if m["step"] in ref)
print(f"{'train.py, 1 GPU, ' + sys.argv[3] + ', loss falls':<44} loss {mean(amp[:5]):.4f} -> {mean(amp[-5:]):.4f} nats (first and last five), "
      f"up to {worst:.1e} from float32  {'ok' if falls else 'FAILED'}")
sys.exit(0 if falls else 1)
PY
fi

echo "gpu-check: $passed passed, $failed failed"
[ "$failed" = 0 ]
