"""DVC stage report: one self-contained HTML page (charts and their scripts inlined, no network) of what the run did."""

import _env  # noqa: F401,I001  first: re-runs the stage under the project's .venv python when needed

from synthkit import stage
from synthkit.io import write_text
from synthkit.report import build_report


def main(args) -> None:
    report = build_report(args.reports)
    write_text(report.html, args.out)


if __name__ == "__main__":
    stage.run(main, stage.parser(__doc__, "reports", "out"))
