"""``python -m skill bench timing``: does a planned reflection really last as long as asked?

* ``--calibrate`` measures each locale's speaking rate on real synthesized speech of every
  reflection phrasing (offline engine, timed) and rewrites ``skill/reflection/calibration.yaml``.
* Without it, plans 1/2/3/5/10-minute reflections in each locale (several random phrasings each)
  and compares the requested length with the plan and with a *measurement*: every spoken line of
  the plan synthesized by the offline engine and timed, plus the planned silence and intro clip.
  (Phrasings are drawn with seeded generators, so runs are reproducible.)
  ``--write FILE`` puts the table in a Markdown file between markers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import tempfile
import wave
from collections.abc import Sequence
from pathlib import Path

import yaml

from skill.lessons.catalog import load_intros
from skill.reflection import STAGES, StageText, load_rate, plan_reflection
from skill.reflection.timing import CALIBRATION_FILE, counted_chars, sentences
from skill.speech import Speech, load_catalog

LOCALES = ("en-US", "ja-JP")
MINUTES = (1, 2, 3, 5, 10)
BEGIN, END = "<!-- timing-table:begin -->", "<!-- timing-table:end -->"


def _fit(points: Sequence[tuple[int, int, int]]) -> tuple[float, float]:
    """Least squares for ``ms = a * chars + b * sentences`` (no intercept): ``(a, b)``."""
    scc = sum(c * c for c, _, _ in points)
    scs = sum(c * s for c, s, _ in points)
    sss = sum(s * s for _, s, _ in points)
    scy = sum(c * y for c, _, y in points)
    ssy = sum(s * y for _, s, y in points)
    det = scc * sss - scs * scs
    return (scy * sss - ssy * scs) / det, (scc * ssy - scs * scy) / det


def calibrate() -> dict[str, dict[str, object]]:
    """Speaking rates fitted on real synthesized speech of every reflection phrasing.

    Each phrasing in the locale files is synthesized by the offline engine and timed; a least
    squares fit of duration on counted characters and sentence count gives the rate and the
    per-sentence pause. Fitting on the very lines the planner estimates keeps short prompts honest.
    """
    from skill.audio.engines import offline_chain

    catalog = load_catalog()
    rates: dict[str, dict[str, object]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for locale in LOCALES:
            texts = [t for key, variants in catalog.for_locale(locale).messages.items()
                     if key.startswith("reflection.") for t in variants if "{" not in t]
            cache: dict[str, int] = {}
            points = [(counted_chars(t, locale), sentences(t), _synth_ms(t, locale, cache, Path(tmp)))
                      for t in texts]
            ms_per_char, pause_ms = _fit(points)
            engine = next(e.name for e in offline_chain(locale) if _available(e))
            rates[locale] = {
                "chars_per_second": round(1000 / ms_per_char, 2),
                "sentence_pause_ms": round(pause_ms),
                "measured_on": f"{len(points)} synthesized reflection phrasings",
                "engine": engine,
            }
    return rates


def _available(engine: object) -> bool:
    from skill.audio.errors import EngineUnavailableError

    try:
        engine.check()  # type: ignore[attr-defined]
    except EngineUnavailableError:
        return False
    return True


def _synth_ms(text: str, locale: str, cache: dict[str, int], workdir: Path) -> int:
    """Milliseconds the offline engine takes to say ``text``."""
    if text in cache:
        return cache[text]
    from skill.audio.engines import offline_chain
    from skill.audio.errors import EngineUnavailableError

    for engine in offline_chain(locale):
        try:
            engine.check()
        except EngineUnavailableError:
            continue
        out = workdir / f"{len(cache)}{engine.suffix}"
        engine.synthesize(text, out)
        with wave.open(str(out), "rb") as handle:
            cache[text] = round(handle.getnframes() / handle.getframerate() * 1000)
        return cache[text]
    raise RuntimeError(f"no offline speech engine available for {locale}")


def measure(seeds: int = 3, synthesize: bool = True) -> list[dict[str, object]]:
    """Plan each length several times; return requested/planned/measured rows."""
    catalog = load_catalog()
    rows: list[dict[str, object]] = []
    with tempfile.TemporaryDirectory() as tmp:
        cache: dict[str, int] = {}
        for locale in LOCALES:
            intros = [(i.id, i.duration_ms) for i in load_intros(locale)]
            for minutes in MINUTES:
                requested = minutes * 60_000
                worst_plan, worst_measured = 0.0, 0.0
                planned_ms = measured_ms = 0
                for seed in range(seeds):
                    rng = random.Random(seed)
                    speech = Speech(catalog.for_locale(locale), rng=rng)
                    texts = [StageText(speech.phrase(f"reflection.{n}.prompt"),
                                       speech.phrase(f"reflection.{n}.cue")) for n, _ in STAGES]
                    opening = speech.phrase("reflection.opening")
                    closing = speech.phrase("reflection.closing.words")
                    plan = plan_reflection(requested, texts, opening, closing, load_rate(locale),
                                           intros=rng.sample(intros, len(intros)))
                    planned = plan.planned_ms
                    measured = planned
                    if synthesize:
                        spoken = [closing] + [st.prompt for st in texts]
                        if not plan.compact:
                            spoken += [opening] + [st.cue for st in texts]
                        estimated = plan.opening_ms + plan.closing_ms + sum(s.speech_ms for s in plan.stages)
                        actual = sum(_synth_ms(t, locale, cache, Path(tmp)) for t in spoken)
                        measured = planned - estimated + actual
                    if abs(planned - requested) / requested >= worst_plan:
                        worst_plan, planned_ms = abs(planned - requested) / requested, planned
                    if abs(measured - requested) / requested >= worst_measured:
                        worst_measured, measured_ms = abs(measured - requested) / requested, measured
                rows.append({"locale": locale, "requested_s": requested / 1000,
                             "planned_s": planned_ms / 1000, "measured_s": measured_ms / 1000,
                             "error_pct": round(100 * (measured_ms - requested) / requested, 1)})
    return rows


def table(rows: Sequence[dict[str, object]]) -> str:
    lines = ["| locale | requested (s) | planned (s) | measured (s) | error vs requested |",
             "|---|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['locale']} | {r['requested_s']:.0f} | {r['planned_s']:.1f} | "
                     f"{r['measured_s']:.1f} | {r['error_pct']:+.1f}% |")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m skill bench timing")
    parser.add_argument("--calibrate", action="store_true", help="re-measure the speaking rates")
    parser.add_argument("--seeds", type=int, default=3, help="random phrasings per length")
    parser.add_argument("--no-synth", action="store_true", help="skip the synthesized measurement")
    parser.add_argument("--write", type=Path, help="Markdown file to update between markers")
    args = parser.parse_args(list(argv))
    if args.calibrate:
        rates = calibrate()
        header = ("# Speaking rates for planning reflections, fitted on synthesized reflection phrasings.\n"
                  f"# Regenerate with: python -m skill bench timing --calibrate  (last: {dt.date.today()})\n")
        CALIBRATION_FILE.write_text(header + yaml.safe_dump({"rates": rates}, allow_unicode=True,
                                                            sort_keys=True), encoding="utf-8")
        load_rate.cache_clear()
        print(yaml.safe_dump(rates, allow_unicode=True))
    rows = measure(seeds=args.seeds, synthesize=not args.no_synth)
    text = table(rows)
    print(text)
    worst = max(abs(float(str(r["error_pct"]))) for r in rows)
    print(f"\nworst error {worst:.1f}% (target: within 10%)")
    if args.write:
        doc = args.write.read_text(encoding="utf-8") if args.write.exists() else ""
        block = f"{BEGIN}\n{text}\n{END}"
        if BEGIN in doc and END in doc:
            doc = doc[: doc.index(BEGIN)] + block + doc[doc.index(END) + len(END):]
        else:
            doc = doc + ("\n" if doc else "") + block + "\n"
        args.write.write_text(doc, encoding="utf-8")
    return 0 if worst <= 10 else 1
