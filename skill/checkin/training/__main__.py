"""``python -m skill.checkin.training [--locale L] [--check]``: train and write the crisis models.

Prints, per locale, the k-fold cross-validated figures (rules alone, classifier alone, rules OR
classifier) on the training lines, split by source file, and the development-set figures
(measurement only: the dev set is never trained on). ``--check`` trains in memory and exits 1
if a shipped model differs from what the current data and code produce (a stale model).
"""

from __future__ import annotations

import argparse
import json
import sys

from skill.checkin.classifier import CrisisModel, model_path, parse_model
from skill.checkin.lexicon import LOCALES
from skill.checkin.training import build, dev_figures, guard, rules_flag, write_model


def main(argv: list[str] | None = None) -> int:
    """Train, report and write (or check) the models; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m skill.checkin.training")
    parser.add_argument("--locale", choices=LOCALES, action="append")
    parser.add_argument("--check", action="store_true",
                        help="do not write; exit 1 if a shipped model is stale")
    args = parser.parse_args(argv)
    stale: list[str] = []
    for locale in args.locale or LOCALES:
        model_data, report = build(locale)
        model = parse_model(model_data, locale)

        def rules(text: str, loc: str = locale) -> bool:
            return rules_flag(guard(text, loc), loc)

        def classifier(text: str, loc: str = locale, model: CrisisModel = model) -> bool:
            return model.flags(guard(text, loc))

        report.dev = {
            "rules": dev_figures(locale, rules),
            "classifier": dev_figures(locale, classifier),
            "combined": dev_figures(locale, lambda t: rules(t) or classifier(t)),
        }
        size = len(json.dumps(model_data, ensure_ascii=False, separators=(",", ":")).encode())
        print(f"\n{locale}: {report.lines} lines; {report.features} weights; "
              f"model {size / 1024:.0f} KB; threshold {model.threshold:.3f} (logit)")
        for part, figures in report.cv.items():
            print(f"  cross-validated, {part}:")
            for name, row in figures.items():
                print(f"    {name:10s} {row}")
        print("  development set (never trained on):")
        for name, row in report.dev.items():
            print(f"    {name:10s} {row}")
        if args.check:
            shipped = model_path(locale)
            current = shipped.read_text(encoding="utf-8") if shipped.is_file() else ""
            fresh = json.dumps(model_data, ensure_ascii=False, separators=(",", ":")) + "\n"
            if current != fresh:
                stale.append(locale)
        else:
            print(f"  wrote {write_model(model_data)}")
    if stale:
        print(f"stale model(s): {', '.join(stale)}; run `python -m skill.checkin.training`")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
