"""Execute every notebook in this folder headless; fail on the first failing cell.

Usage: python notebooks/run.py            (after `opleidingsmonitor run` on the sample region)
Set OPLEIDINGSMONITOR_DATASET to run them on another dataset. Outputs are not written
back: the notebooks in git stay without outputs.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

HERE = Path(__file__).resolve().parent


def main() -> int:
    books = sorted(HERE.glob("*.ipynb"))
    if not books:
        print("no notebooks found")
        return 1
    for path in books:
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(HERE)}})
        try:
            client.execute()
        except CellExecutionError as e:
            print(f"FAILED {path.name}: {e}")
            return 1
        print(f"executed {path.name}: {len(nb.cells)} cells")
    print(f"notebooks: {len(books)} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
