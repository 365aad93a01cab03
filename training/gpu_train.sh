#!/usr/bin/env bash
# Train the part-2 diffusion models side by side on one CUDA GPU, then pack each run as a slim checkpoint.
#
#   bash training/gpu_train.sh OUT_DIR [MINUTES] [DEVICE]
#
# Needs training/data (python -m training data) and the frozen models' runs: training/runs/tiny_clip
# and training/runs/emoji_vae/ckpt.pt. Each model trains for MINUTES (default 6.5) of step time, all
# at once on the same GPU; OUT_DIR/<name>.tar.gz holds runs/<name>/{ckpt.pt (EMA weights, no optimiser
# state), summary.json, train.log}. Unpack into training/runs/ and `python -m training build <name>
# --no-train` exports and evaluates on the CPU. DEVICE=cpu with a small MINUTES checks this script.
set -euo pipefail
out=${1:?usage: gpu_train.sh OUT_DIR [MINUTES] [DEVICE]}
minutes=${2:-6.5}
device=${3:-cuda}
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
mkdir -p "$out" training/runs
t0=$(date +%s)

# 1. The frozen encoders' caches, in parallel (each writes its own file), before any training reads them.
for mod in mini_sd unclip_decoder unclip_prior; do
  $py -c "from training.recipes import $mod; $mod.build_cache()" &
done
$py -c "from training.recipes import cascade_base as b; from training.paths import RUNS; b.build_text_cache(RUNS / b.NAME / 'text_cache.pt')" &
wait
echo "caches built in $(( $(date +%s) - t0 )) s"
[ "$device" = cuda ] && nvidia-smi --query-gpu=name,memory.used,memory.total --format=csv || true

# 2. Every model at once: one process each, batch 128 (twice the CPU recipes') except the prior's 64.
models=(mini_sd:128 mini_dit:128 class_unet:128 cascade_base:128 cascade_sr:128 unclip_decoder:128 unclip_prior:64)
pids=()
for spec in "${models[@]}"; do
  name=${spec%%:*}; batch=${spec##*:}
  mkdir -p "training/runs/$name"
  $py -m training train "$name" --device "$device" --max-minutes "$minutes" --steps 1000000 --threads 2 \
    --batch-size "$batch" >"training/runs/$name/gpu_stdout.log" 2>&1 &
  pids+=($!)
done
status=0
for i in "${!pids[@]}"; do
  wait "${pids[$i]}" || { echo "${models[$i]%%:*} failed:"; tail -20 "training/runs/${models[$i]%%:*}/gpu_stdout.log"; status=1; }
done
[ "$device" = cuda ] && nvidia-smi --query-gpu=name,memory.used --format=csv || true

# 3. Slim checkpoints, one archive per model.
for spec in "${models[@]}"; do
  name=${spec%%:*}
  d=$(mktemp -d); mkdir -p "$d/$name"
  if [ -f "training/runs/$name/ckpt.pt" ]; then
    $py -c "from training.trainer import slim_checkpoint as s; s('training/runs/$name/ckpt.pt', '$d/$name/ckpt.pt')"
  fi
  cp training/runs/$name/{summary.json,train.log} "$d/$name/" 2>/dev/null || true
  tail -3 "training/runs/$name/train.log" 2>/dev/null || true
  tar -czf "$out/$name.tar.gz" -C "$d" "$name"
done
ls -la "$out"
echo "total $(( $(date +%s) - t0 )) s"
exit $status
