#!/usr/bin/env python3
"""Convert a UEA/UCR `.ts` classification file into seqlab's CSV sequence layout.

    python3 ts_to_csv.py JapaneseVowels_TRAIN.ts data/train
    python3 ts_to_csv.py JapaneseVowels_TEST.ts  data/test

writes OUT/features/{i}.csv (one line per time step, one column per dimension) and
OUT/labels/{i}.csv (one line: the class index, 0-based in the order of the file's
`@classLabel` list), i = 0, 1, ... in file order. Python 3 standard library only.

The `.ts` format (sktime / aeon, timeseriesclassification.com): `#` comment lines,
`@` header lines, then after `@data` one case per line: the dimensions separated by
`:`, each a comma-separated series (`?` = missing, refused here), the class label
last. Variable-length series are kept as they are (seqlab pads and masks them).
"""

import os
import sys


def convert(ts_path, out_dir):
    classes = None
    cases = []
    in_data = False
    with open(ts_path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if not in_data:
                low = line.lower()
                if low.startswith("@classlabel"):
                    parts = line.split()
                    if len(parts) < 3 or parts[1].lower() != "true":
                        sys.exit(f"{ts_path}:{number}: not a classification file (@classLabel false)")
                    classes = parts[2:]
                elif low.startswith("@data"):
                    in_data = True
                continue
            *dims, label = line.split(":")
            if classes is None:
                sys.exit(f"{ts_path}:{number}: data before an @classLabel line")
            if label not in classes:
                sys.exit(f"{ts_path}:{number}: label {label!r} is not one of {classes}")
            series = []
            for d, text in enumerate(dims):
                if "?" in text:
                    sys.exit(f"{ts_path}:{number}: dimension {d} has missing values ('?')")
                series.append([float(v) for v in text.split(",")])
            lengths = {len(s) for s in series}
            if len(lengths) != 1:
                sys.exit(f"{ts_path}:{number}: dimensions of different lengths {sorted(lengths)}")
            cases.append((series, classes.index(label)))
    if not cases:
        sys.exit(f"{ts_path}: no cases after @data")
    for sub in ("features", "labels"):
        os.makedirs(os.path.join(out_dir, sub), exist_ok=True)
    for i, (series, label) in enumerate(cases):
        with open(os.path.join(out_dir, "features", f"{i}.csv"), "w", encoding="utf-8") as fh:
            for step in zip(*series):
                fh.write(",".join(repr(v) for v in step) + "\n")
        with open(os.path.join(out_dir, "labels", f"{i}.csv"), "w", encoding="utf-8") as fh:
            fh.write(f"{label}\n")
    lengths = [len(s[0]) for s, _ in cases]
    print(f"{ts_path}: {len(cases)} sequences of {len(cases[0][0])} dimensions, "
          f"{min(lengths)}-{max(lengths)} steps, {len(classes)} classes -> {out_dir}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    convert(sys.argv[1], sys.argv[2])
