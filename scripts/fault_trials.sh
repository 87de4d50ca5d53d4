#!/usr/bin/env bash
# Kill and fault trials for the run folder (issue 14): kill -9 and SIGTERM at different
# moments of a run and of its resume, two resumes of one folder at once, divergence,
# a second Ctrl-C, and (as root, where a tmpfs can be mounted) a full disk.
#
# Every kill trial resumes the run to its end and compares it with an uninterrupted run:
# weights.safetensors byte for byte, metrics.csv without its timing columns, eval.csv and
# samples.txt exactly; it counts the metrics rows lost and repeated and the temporary
# files left behind. Prints one line per trial and a total; exits non-zero if any trial
# failed.
#
#   cargo build && scripts/fault_trials.sh            # uses target/debug/seqlab
#   SEQLAB=target/release/seqlab scripts/fault_trials.sh
set -u
BIN=$(realpath "${SEQLAB:-target/debug/seqlab}")
WORK=$(mktemp -d /tmp/seqlab-faults.XXXXXX)
cd "$WORK" || exit 1
ITER=${ITER:-400}

printf 'a run folder survives kills, full disks and two writers. %.0s' $(seq 40) > corpus.txt
cat > exp.ron <<RON
(
    name: "faults",
    data: Text(path: "corpus.txt", validation: 0.1),
    model: (layers: [(kind: Lstm, size: 32)]),
    training: (
        updater: Adam(lr: 0.01),
        batch_size: 8,
        sequence_length: 32,
        iterations: $ITER,
        seed: 3,
        checkpoint_every: 10,
        threads: 1,
    ),
    evaluation: (every: 10),
    sampling: (every: 20, length: 30),
)
RON

"$BIN" --run exp.ron --out ref --quiet >/dev/null 2>ref.err || { cat ref.err; exit 1; }

failed=0; trials=0; lost_total=0; dup_total=0
metrics() { # metrics.csv without tokens_per_s and elapsed_s (the last two columns)
    awk -F, 'BEGIN{OFS=","} {NF=NF-2; print}' "$1/metrics.csv"
}
compare() { # compare RUN NAME NOTE
    local run=$1 name=$2 note=$3 ok=1 why=""
    cmp -s ref/weights.safetensors "$run/weights.safetensors" || { ok=0; why+=" weights"; }
    metrics ref > ref.m; metrics "$run" > run.m
    cmp -s ref.m run.m || { ok=0; why+=" metrics.csv"; }
    cmp -s ref/eval.csv "$run/eval.csv" || { ok=0; why+=" eval.csv"; }
    cmp -s ref/samples.txt "$run/samples.txt" || { ok=0; why+=" samples.txt"; }
    local lost dup tmp
    lost=$(comm -23 <(sort ref.m) <(sort -u run.m) | wc -l)
    dup=$(sort run.m | uniq -d | wc -l)
    tmp=$(find "$run" -name '*.tmp-*' | wc -l)
    [ "$tmp" -eq 0 ] || { ok=0; why+=" temp-files"; }
    lost_total=$((lost_total + lost)); dup_total=$((dup_total + dup))
    trials=$((trials + 1))
    if [ $ok -eq 1 ]; then
        printf '%-28s ok    rows lost %d, repeated %d, temp files %d  %s\n' "$name" "$lost" "$dup" "$tmp" "$note"
    else
        failed=$((failed + 1))
        printf '%-28s FAIL  differs:%s; rows lost %d, repeated %d, temp files %d  %s\n' "$name" "$why" "$lost" "$dup" "$tmp" "$note"
    fi
}
latest() { sed -n 's/iter_0*\([0-9]*\)\.safetensors/\1/p' "$1/checkpoints/latest" 2>/dev/null; }
resume_to_end() { # resume until the run finishes (at most 5 times)
    local run=$1 i
    for i in 1 2 3 4 5; do
        "$BIN" --run --resume "$run" --quiet >/dev/null 2>"$run.resume.err" && return 0
        grep -q "already finished" "$run.resume.err" && return 0
    done
    cat "$run.resume.err"; return 1
}
kill_trial() { # kill_trial NAME SIGNAL SECONDS
    local name=$1 sig=$2 delay=$3 run=$1
    "$BIN" --run exp.ron --out "$run" --quiet >/dev/null 2>&1 &
    local pid=$!
    sleep "$delay"; kill "-$sig" $pid 2>/dev/null; wait $pid 2>/dev/null
    local at; at=$(latest "$run"); at=${at:-none}
    local note="killed (SIG$sig after ${delay}s, checkpoint $at)"
    [ -f "$run/summary.json" ] && note="(the run had already finished)"
    resume_to_end "$run" || { trials=$((trials+1)); failed=$((failed+1)); echo "$name FAIL resume"; return; }
    compare "$run" "$name" "$note"
}

for d in 0.3 0.6 0.9 1.2 1.5 1.8 2.1 2.4 2.7 3.0; do kill_trial "kill9_$d" KILL "$d"; done
for d in 0.5 1.0 1.5 2.0; do kill_trial "term_$d" TERM "$d"; done

# killed twice: during the run and during its resume
for d in 0.8 1.6; do
    run="kill_resume_$d"
    "$BIN" --run exp.ron --out "$run" --quiet >/dev/null 2>&1 & pid=$!
    sleep "$d"; kill -KILL $pid; wait $pid 2>/dev/null
    "$BIN" --run --resume "$run" --quiet >/dev/null 2>&1 & pid=$!
    sleep "$d"; kill -KILL $pid; wait $pid 2>/dev/null
    resume_to_end "$run" && compare "$run" "$run" "killed in the run and in the resume"
done

# two resumes of one folder at once: one runs, the other is refused naming the holder
for n in 1 2; do
    run="concurrent_$n"
    "$BIN" --run exp.ron --out "$run" --quiet >/dev/null 2>&1 & pid=$!
    sleep 1; kill -KILL $pid; wait $pid 2>/dev/null
    "$BIN" --run --resume "$run" --quiet >/dev/null 2>"$run.a" & a=$!
    "$BIN" --run --resume "$run" --quiet >/dev/null 2>"$run.b" & b=$!
    wait $a; wait $b
    refused=$(cat "$run.a" "$run.b" | grep -c "in use by seqlab process")
    resume_to_end "$run" && compare "$run" "$run" "second writer refused: $refused"
    [ "$refused" -ge 1 ] || { echo "$run: no resume was refused"; failed=$((failed+1)); }
done

# divergence: the last finite weights are kept, no checkpoint holds a non-finite value
sed 's/Adam(lr: 0.01)/Sgd(lr: 1e300)/' exp.ron > nan.ron
trials=$((trials+1))
if "$BIN" --run nan.ron --out nan --quiet >/dev/null 2>nan.err; then
    echo "diverged                     FAIL  exit code 0"; failed=$((failed+1))
elif "$BIN" sample nan --length 5 >/dev/null 2>nan.sample && grep -q "diverged at iteration" nan.sample \
     && ! "$BIN" --run --resume nan --quiet 2>/dev/null; then
    echo "diverged                     ok    $(grep -o 'diverged at iteration [0-9]*' nan.sample | head -1); weights finite"
else
    echo "diverged                     FAIL  $(cat nan.err nan.sample)"; failed=$((failed+1))
fi

# a second Ctrl-C exits at once, even during a long final sample
sed 's/sampling: (every: 20, length: 30)/sampling: (length: 100000000)/; s/iterations: [0-9]*/iterations: 100000/' exp.ron > long.ron
"$BIN" --run long.ron --out ctrlc --quiet >/dev/null 2>&1 & pid=$!
sleep 1.5; kill -INT $pid; sleep 0.5; kill -INT $pid
t0=$(date +%s.%N); wait $pid; code=$?; t1=$(date +%s.%N)
trials=$((trials+1))
secs=$(echo "$t1 - $t0" | bc)
if [ $code -eq 130 ] && [ "$(echo "$secs < 5" | bc)" -eq 1 ]; then
    echo "second ctrl-c                ok    exit 130 ${secs}s after the second Ctrl-C"
else
    echo "second ctrl-c                FAIL  exit $code after ${secs}s"; failed=$((failed+1))
fi

# a full disk (root, tmpfs)
mkdir -p disk
if mount -t tmpfs -o size=1M tmpfs disk 2>/dev/null; then
    sed 's/iterations: [0-9]*/iterations: 100000/' exp.ron > full.ron
    "$BIN" --run full.ron --out disk/run --quiet >full.out 2>full.err
    trials=$((trials+1))
    if grep -q "No space left on device" full.err && grep -q "kept: the checkpoint of iteration" full.err; then
        echo "disk full                    ok    $(grep -o 'training stopped at iteration [0-9]*' full.err)"
    else
        echo "disk full                    FAIL  $(cat full.err)"; failed=$((failed+1))
    fi
    umount disk
else
    echo "disk full                    SKIPPED (cannot mount a tmpfs here)"
fi

echo "trials: $trials, failed: $failed, metrics rows lost: $lost_total, repeated: $dup_total (work dir $WORK)"
[ $failed -eq 0 ]
