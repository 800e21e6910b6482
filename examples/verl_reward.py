"""verl on a taskgym env: write the env's prompts as verl's parquet dataset, and point
verl's custom reward function at taskgym's ``compute_score``.

    python examples/verl_reward.py --env taskgym/MathGen-v0 --count 2000 --out data/train.parquet

then train with (verl's own flags; the reward lines are taskgym's)::

    REWARD=$(python -c "import taskgym.trainers as t; print(t.__file__)")
    python -m verl.trainer.main_ppo data.train_files=data/train.parquet \\
        custom_reward_function.path=$REWARD \\
        custom_reward_function.name=verl_compute_score ...

Each row's ``data_source`` is the env id and ``reward_model.ground_truth`` the task id,
which is what ``verl_compute_score`` grades against. Writing parquet needs pandas and
pyarrow (``pip install 'taskgym[datasets]'`` brings both); without ``--out`` the first
rows are printed.
"""

from __future__ import annotations

import argparse
import json

from taskgym.trainers import verl_rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default="taskgym/MathGen-v0")
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--out", help="a .parquet file to write")
    args = parser.parse_args()
    rows = verl_rows(args.env, count=args.count)
    if args.out is None:
        for row in rows[:3]:
            print(json.dumps(row)[:300])
        return
    import pandas as pd  # noqa: PLC0415 - only to write parquet

    pd.DataFrame(rows).to_parquet(args.out)
    print(f"{len(rows)} rows written to {args.out}")


if __name__ == "__main__":
    main()
