"""Write bench/data/records.txt: the one text every benchmark trains on (ours via --text-file,
PyTorch and TF.js by reading the file). JSON-like records, one per line, of the same nature as
our built-in `records` task; ~56k characters so that the 90% training part is ~50k like the task.

    python3 bench/data/make_records.py   # deterministic (seeded); the output is committed
"""
import sys

if __name__ == "__main__" and {"-h", "--help"} & set(sys.argv[1:]):
    print(__doc__.strip())
    sys.exit(0)

import random
from pathlib import Path

NAMES = "mira tomas ines bruno lena oskar nadia felix runa kaito sol amara pavel juno ada ravi".split()
CITIES = "tolden brask amberly quill norrow fenwick halden ostry lumen carrow".split()
PETS = "owl cat dog ferret hare crow newt goat".split()
COLORS = "red blue green amber grey violet teal gold".split()


def record(rng):
    name, city = rng.choice(NAMES), rng.choice(CITIES)
    age = rng.randint(18, 90)
    # The email repeats name and city: something a model can learn to copy within a line.
    return (f'{{"name": "{name}", "city": "{city}", "pet": "{rng.choice(PETS)}", '
            f'"color": "{rng.choice(COLORS)}", "age": {age}, "email": "{name}.{city}@example.org"}}')


def main(chars=56_000, seed=5):
    rng = random.Random(seed)
    lines, total = [], 0
    while total < chars:
        lines.append(record(rng))
        total += len(lines[-1]) + 1
    # No final newline: our crate's normalisation would drop it, and the references split the
    # file exactly as the crate does.
    out = Path(__file__).with_name("records.txt")
    out.write_text("\n".join(lines))
    print(f"wrote {out} ({out.stat().st_size} bytes, {len(lines)} records)")


if __name__ == "__main__":
    main()
