"""The check-in engine: one answer to "how was your day?" in, a :class:`Reading` of tags out.

Pure and fast: no I/O after the lexicon is loaded (on the first call per locale), no logging, and
nothing derived from the raw text leaves this module except tags and lexicon term ids.

How it reads an answer (both locales):

1. Normalize (NFKC, lower case; English contractions spelled out, words lemmatized).
2. Match lexicon entries, longest first: English over lemmas, Japanese over characters (there are
   no spaces to split on, and no tokenizer is needed for a closed lexicon).
3. Give each match a value: negation flips it ("not great", 「楽しくなかった」) or, for entries
   whose negation says more ("did not sleep", 「誘われなかった」), sets a value of its own;
   intensifiers and downtoners scale it; everyday hyperbole ("killing me", 「死ぬほど」) only
   intensifies; a sarcasm cue before a praise word in a complaint turns it negative; tiredness
   in a clause about exercise someone chose counts as neither good nor bad.
4. Split at contrast words (but / けど / のに / until ...) and sentence ends; a day is ``mixed``
   when one part is clearly good and another clearly bad, ``neutral`` when nothing is clearly
   either or when the answer calls the day plain and nothing outweighs that; a clause conceded in
   passing ("... even though it was cold") weighs half.
5. Crisis words are checked separately over patterns of concept groups (self / desire / death or
   harm / burden / no way out / means and plans / being unsafe), after guards have neutralised
   everyday hyperbole, clear denials, other people's losses, fiction and accidents. Both
   languages' rules run on mixed-script text. A learned second check
   (:mod:`skill.checkin.classifier`) reads the same guarded text: crisis = rules OR classifier,
   so a guard (a clear denial, hyperbole) holds for both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from skill.checkin.classifier import crisis_model
from skill.checkin.lexicon import Lexicon, Term, lemmatize, load_lexicon, normalize_en, normalize_ja
from skill.checkin.model import Polarity, Reading, Stage

#: Sentiment is read from this many characters; crisis rules see up to :data:`MAX_CRISIS_CHARS`.
MAX_CHARS = 2_000
MAX_CRISIS_CHARS = 20_000

_EN_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*|[.!?;:…]+|,|\S")
_SENTENCE_END = frozenset(".!?;:…")
_JA_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[a-z]{2,}")
_HIRAGANA_RUN = re.compile(r"[ぁ-ゖー]{0,10}")
_JA_RUN_STOP = re.compile(r"けど|けれど|のに|ので|から|ても|でも")
_CLAUSE_END = frozenset("、。！？!?)）")
_LETTERS = re.compile(r"[0-9a-z\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff]")

#: Scale of an intensified / downtoned value.
_BOOST = 1.5
_SOFTEN = 0.5
#: Scale of values in a conceded clause ("... even though it was cold").
_CONCEDED = 0.5
#: Thresholds on the summed positive (P) and negative (N) strength.
_CLEAR = 0.75
_PART = 0.5


@dataclass
class _Match:
    term: Term
    start: int
    end: int
    segment: int
    value: float | None = None
    negated: bool = False
    scale: float = 1.0
    emotions: tuple[str, ...] = ()


@dataclass
class _Partial:
    """What one script's analysis found; merged across scripts for mixed-script answers."""

    values: list[tuple[int, float]] = field(default_factory=list)
    segments: int = 1
    emotions: list[str] = field(default_factory=list)
    topics: list[str] = field(default_factory=list)
    reflects: list[tuple[int, str]] = field(default_factory=list)
    neutral: float = 0.0
    content: bool = False
    stages: set[str] = field(default_factory=set)
    crisis: bool = False


def analyze(text: str, locale: str) -> Reading:
    """Read one check-in answer.

    :param text: what the person said (never stored; only tags leave this function).
    :param locale: the request locale; ``en-*`` and ``ja-*`` resolve to the two lexicons.
    :raises UnsupportedLocaleError: if the locale has no lexicon.
    :raises TypeError: if ``text`` is not a string.
    """
    if not isinstance(text, str):
        raise TypeError(f"analyze() needs text as str, not {type(text).__name__}")
    lexicon = load_lexicon(locale)
    crisis_text = text[:MAX_CRISIS_CHARS]
    body = text[:MAX_CHARS]

    parts: list[_Partial] = []
    has_ja = bool(_JA_CHARS.search(crisis_text))
    lowered = crisis_text.lower()
    has_en = bool(_LATIN_WORD.search(lowered))
    en = load_lexicon("en-US") if lexicon.script == "en" or has_en else None
    ja = load_lexicon("ja-JP") if lexicon.script == "ja" or has_ja else None
    if lexicon.script == "en":
        assert en is not None
        parts.append(_read_en(body, en))
        if has_ja and ja is not None:
            parts.append(_read_ja(body, ja))
    else:
        assert ja is not None
        parts.append(_read_ja(body, ja))
        if has_en and en is not None:
            parts.append(_read_en(_JA_CHARS.sub(" , ", body), en))

    crisis = False
    if en is not None and (has_en or lexicon.script == "en"):
        crisis = crisis or _crisis(crisis_text, en)
    if ja is not None and (has_ja or lexicon.script == "ja"):
        crisis = crisis or _crisis(crisis_text, ja)
    return _decide(lexicon.locale, parts, crisis)


# --------------------------------------------------------------------------- decision


def _decide(locale: str, parts: list[_Partial], crisis: bool) -> Reading:
    values: list[tuple[int, float]] = []
    reflects: list[tuple[int, str]] = []
    emotions: list[str] = []
    topics: list[str] = []
    stages: set[str] = set()
    neutral = 0.0
    content = False
    offset = 0
    for part in parts:
        values += [(offset + seg, v) for seg, v in part.values]
        reflects += [(offset + seg, r) for seg, r in part.reflects]
        emotions += [e for e in part.emotions if e not in emotions]
        topics += [t for t in part.topics if t not in topics]
        stages |= part.stages
        neutral += part.neutral
        content = content or part.content
        offset += part.segments

    if not content and not crisis:
        return Reading(locale=locale, polarity="neutral", unclear=True)

    positive = sum(v for _, v in values if v > 0)
    negative = -sum(v for _, v in values if v < 0)
    by_segment: dict[int, float] = {}
    for seg, v in values:
        by_segment[seg] = by_segment.get(seg, 0.0) + v
    split_mixed = (len(by_segment) > 1 and any(v >= _PART for v in by_segment.values())
                   and any(v <= -_PART for v in by_segment.values()))

    polarity: Polarity
    if crisis:
        polarity = "negative"
    elif split_mixed:
        polarity = "mixed"
    elif positive >= _CLEAR and negative >= _CLEAR and min(positive, negative) >= 0.34 * max(
        positive, negative
    ):
        polarity = "mixed"
    elif neutral > max(positive, negative):
        polarity = "neutral"
    elif negative >= _PART and negative >= positive:
        polarity = "negative"
    elif positive >= _CLEAR and positive > negative:
        polarity = "positive"
    else:
        polarity = "neutral"

    stage: Stage = "facts"
    if "next_step" in stages:
        stage = "next_step"
    elif "meaning" in stages:
        stage = "meaning"
    elif emotions or "feelings" in stages:
        stage = "feelings"

    return Reading(
        locale=locale, polarity=polarity, emotions=tuple(emotions), topics=tuple(topics),
        stage=stage, crisis=crisis, reflect_term=_pick_reflect(reflects, by_segment, polarity),
    )


def _pick_reflect(reflects: list[tuple[int, str]], by_segment: dict[int, float],
                  polarity: Polarity) -> str | None:
    """The term id from the part of the answer that carries the day's feeling."""
    if not reflects:
        return None

    def weight(seg: int) -> float:
        value = by_segment.get(seg, 0.0)
        if polarity == "positive":
            return value
        if polarity in ("negative", "mixed"):
            return -value
        return abs(value)

    best = max(weight(seg) for seg, _ in reflects)
    return next(term for seg, term in reflects if weight(seg) == best)


# --------------------------------------------------------------------------- shared scoring


def _score(matches: list[_Match], part: _Partial, text_has_complaint: bool) -> None:
    """Turn valued matches into polarity, emotions and topics (exercise and sarcasm rules)."""
    exercise_segments = {m.segment for m in matches if "exercise" in m.term.topics}
    sarcastic = [m for m in matches if m.value is not None and m.value > 0
                 and m.term.has("sarcasm_capable") and not m.negated and m.scale == -1.0]
    other_positive = any(m.value is not None and m.value > 0 and m not in sarcastic
                         for m in matches)
    has_negative = any(m.value is not None and m.value < 0 for m in matches)
    flip_sarcasm = bool(sarcastic) and not other_positive and (has_negative or text_has_complaint)

    for m in matches:
        term = m.term
        if term.has("neutral_summary"):
            part.neutral += 1.0
        for topic in term.topics:
            if topic not in part.topics:
                part.topics.append(topic)
        if term.reflect:
            part.reflects.append((m.segment, term.reflect))
        value = m.value
        emotions = m.emotions
        if m in sarcastic:
            if flip_sarcasm:
                value, emotions = -1.0, ()
            else:
                m.scale = 1.0
        if value is not None and m.scale > 0:
            value *= m.scale
        if term.has("fatigue") and m.segment in exercise_segments and value is not None:
            value = 0.0 if value < 0 else value
        if value:
            part.values.append((m.segment, value))
        for emotion in emotions:
            if emotion and emotion not in part.emotions:
                part.emotions.append(emotion)


def _value(term: Term, negated: bool) -> tuple[float | None, tuple[str, ...]]:
    """A term's value and emotions, negated or not."""
    if not negated:
        return term.value, term.emotions
    if term.negated_value is not None:
        return term.negated_value, (term.negated_emotion,) if term.negated_emotion else ()
    if term.value is None:
        return None, ()
    if term.value > 0:
        return -min(term.value, 1.0), ()
    return min(-term.value, 1.0) * 0.75, ()


# --------------------------------------------------------------------------- English


def _en_lemmas(text: str, lex: Lexicon) -> tuple[list[str | None], list[str]]:
    """Lemmas of ``text`` (None marks a sentence end or comma) and emoji characters found."""
    norm = normalize_en(text, lex.contractions)
    items: list[str | None] = []
    emoji: list[str] = []
    for token in _EN_TOKEN.findall(norm):
        first = token[0]
        if first.isalnum() and first.isascii():
            items.append(lemmatize(token, lex.vocab, lex.irregular))
        elif first in _SENTENCE_END or token == ",":
            items.append(None if first != "," else ",")
        elif token in lex.emoji:
            emoji.append(token)
    return items, emoji


def _read_en(text: str, lex: Lexicon) -> _Partial:
    part = _Partial()
    items, emoji = _en_lemmas(text, lex)
    matches: list[_Match] = []
    segment = 0
    content_words = 0
    i, n = 0, len(items)
    neg_until = -1
    neg_modal = False
    boost_until, boost = -1, 1.0
    last_cue_end = -2
    has_complaint = False
    conceded = False
    while i < n:
        item = items[i]
        if item is None or item == ",":
            if item is None:
                segment += 1
            neg_until, boost_until = -1, -1
            conceded = False
            i += 1
            continue
        term: Term | None = None
        length = 1
        for size in range(min(lex.max_words, n - i), 0, -1):
            window = items[i:i + size]
            if any(w is None or w == "," for w in window):
                continue
            found = lex.terms.get(" ".join(w for w in window if w))
            if found is not None:
                term, length = found, size
                break
        if term is None:
            content_words += 1
            i += 1
            continue
        if not term.has("fillers"):
            content_words += length
        start, end = i, i + length
        i = end
        if term.has("concessive") and start > 0:
            # "proud of my run even though it was cold": the conceded clause weighs half.
            segment += 1
            neg_until, boost_until = -1, -1
            conceded = True
            continue
        if term.has("contrast"):
            segment += 1
            neg_until, boost_until = -1, -1
            conceded = False
            continue
        if term.has("negation_breakers") and term.value is None:
            neg_until = -1
            continue
        if term.has("sarcasm_complaints"):
            has_complaint = True
        if term.has("sarcasm_cues") and term.value is None:
            last_cue_end = end
        if term.has("negators") and term.value is None and not term.topics:
            neg_until = end + 3
            neg_modal = start > 0 and any(
                items[j] is not None and lex.terms.get(str(items[j])) is not None
                and lex.terms[str(items[j])].has("modals") for j in range(max(0, start - 2), start)
            )
            continue
        if term.has("intensifiers") and term.value is None:
            boost_until, boost = end + 2, _BOOST
            continue
        if term.has("downtoners") and term.value is None:
            boost_until, boost = end + 2, _SOFTEN
            continue
        if term.has("hyperbole"):
            boost_until, boost = end + 3, _BOOST
            matches.append(_Match(term=term, start=start, end=end, segment=segment, value=0.0))
            continue
        negated = start < neg_until
        if negated and term.has("comparatives") and neg_modal:
            negated = False  # "could not have been better"
        value, emotions = _value(term, negated)
        match = _Match(term=term, start=start, end=end, segment=segment, value=value,
                       negated=negated, emotions=emotions)
        if start < boost_until and value:
            match.scale = boost
            boost_until = -1
        if last_cue_end == start and term.has("sarcasm_capable") and not negated:
            match.scale = -1.0  # sarcasm candidate, resolved in _score
        elif conceded and value:
            match.scale *= _CONCEDED
        matches.append(match)
    for char in emoji:
        value_e, emotion = lex.emoji[char]
        matches.append(_Match(term=Term(value=value_e), start=n, end=n, segment=segment,
                              value=value_e, emotions=(emotion,) if emotion else ()))
    part.segments = segment + 1
    part.content = content_words > 0 or bool(emoji)
    _score(matches, part, has_complaint)
    pattern_text = _en_pattern_text(text, lex)
    for stage, patterns in lex.stages.items():
        if any(p.search(pattern_text) for p in patterns):
            part.stages.add(stage)
    return part


def _en_pattern_text(text: str, lex: Lexicon) -> str:
    """Space-padded lemmas for the stage and crisis patterns (punctuation dropped)."""
    norm = normalize_en(text, lex.contractions)
    words = re.findall(r"[a-z0-9]+", norm)
    return " " + " ".join(lemmatize(w, lex.pattern_vocab, lex.irregular) for w in words) + " eos "


def guarded_en(text: str, lex: Lexicon) -> str:
    """The lemma text the English crisis checks read: guard spans rewritten to ``hyperbole``."""
    pattern_text = _en_pattern_text(text, lex)
    for guard in lex.crisis_guards:
        pattern_text = guard.sub("hyperbole ", pattern_text)
    return pattern_text


# --------------------------------------------------------------------------- Japanese


def _read_ja(text: str, lex: Lexicon) -> _Partial:
    part = _Partial()
    norm = normalize_ja(text)
    n = len(norm)
    found: list[tuple[Term, int, int]] = []
    covered = 0
    i = 0
    while i < n:
        char = norm[i]
        hit: tuple[Term, int, int] | None = None
        for size in lex.lengths.get(char, ()):
            if i + size > n:
                continue
            term = lex.terms.get(norm[i:i + size])
            if term is not None:
                if term.has("contrast"):
                    allowed = lex.contrast_after.get(norm[i:i + size])
                    if allowed is not None and i > 0 and norm[i - 1] not in allowed:
                        continue
                hit = (term, i, i + size)
                break
        if hit is None:
            i += 1
            continue
        found.append(hit)
        if hit[0].has("fillers"):
            covered += hit[2] - hit[1]
        i = hit[2]
    letters = len(_LETTERS.findall(norm))
    emoji = [c for c in norm if c in lex.emoji]
    filler_only = covered >= letters
    part.content = (letters > 0 and not filler_only) or bool(emoji)

    matches: list[_Match] = []
    segment = 0
    last_boundary = 0
    for index, (term, start, end) in enumerate(found):
        for pos in range(last_boundary, start):
            if norm[pos] in "。！？!?":
                segment += 1
        last_boundary = start
        if term.has("contrast"):
            segment += 1
            continue
        if (term.has("neutral_summary") and lex.neutral_blocked_before is not None
                and lex.neutral_blocked_before.search(norm, max(0, start - 6), start)):
            continue  # "いいことは何もなかった": the negation of a feeling, not a plain day
        next_start = found[index + 1][1] if index + 1 < len(found) else n
        run = _HIRAGANA_RUN.match(norm, end, min(next_start, n))
        tail = run.group(0) if run else ""
        stop = _JA_RUN_STOP.search(tail)
        if stop:
            tail = tail[:stop.start()]
        negated = bool(lex.negation_suffix and lex.negation_suffix.search(tail))
        if not negated and (term.value is not None or term.negated_value is not None):
            clause_end = len(norm)
            for mark in "、。！？":
                pos = norm.find(mark, end)
                if pos != -1:
                    clause_end = min(clause_end, pos)
            rest = norm[end:clause_end]
            negated = any(p.search(rest) for p in lex.negation_after)
        if term.has("hyperbole") or (
            term.has("laugh_markers") and (end == n or norm[end] in _CLAUSE_END)
        ):
            matches.append(_Match(term=term, start=start, end=end, segment=segment, value=0.0))
            continue
        if term.value is None and term.negated_value is None:
            matches.append(_Match(term=term, start=start, end=end, segment=segment))
            continue
        value, emotions = _value(term, negated)
        match = _Match(term=term, start=start, end=end, segment=segment, value=value,
                       negated=negated, emotions=emotions)
        if lex.intensifier_suffix and lex.intensifier_suffix.search(tail):
            match.scale = _BOOST
        previous = found[index - 1] if index else None
        if previous is not None and start - previous[2] <= 2 and value:
            if previous[0].has("intensifiers") or previous[0].has("hyperbole"):
                match.scale = _BOOST
            elif previous[0].has("downtoners"):
                match.scale = _SOFTEN
        if term.has("sarcasm_capable") and not negated and value and value > 0:
            cue = any(f[0].has("sarcasm_cues") and 0 <= start - f[2] <= 6
                      for f in found[max(0, index - 3):index])
            earlier_negative = any(m.value is not None and m.value < 0 and m.segment == segment
                                   for m in matches)
            if cue and earlier_negative:
                match.scale = -1.0
        matches.append(match)
    for char in emoji:
        value_e, emotion = lex.emoji[char]
        matches.append(_Match(term=Term(value=value_e), start=n, end=n, segment=segment,
                              value=value_e, emotions=(emotion,) if emotion else ()))
    part.segments = segment + 1
    has_complaint = any(t.has("sarcasm_complaints") for t, _, _ in found)
    _score(matches, part, has_complaint)
    for stage, patterns in lex.stages.items():
        if any(p.search(norm) for p in patterns):
            part.stages.add(stage)
    return part


def guarded_ja(text: str, lex: Lexicon) -> str:
    """The text the Japanese crisis checks read: no spaces or 、, guard spans rewritten to 〇."""
    norm = re.sub(r"\s+", "", normalize_ja(text).replace("、", ""))
    for guard in lex.crisis_guards:
        norm = guard.sub("〇", norm)
    return norm


# --------------------------------------------------------------------------- crisis, both scripts


def guarded(text: str, lex: Lexicon) -> str:
    """The text ``lex``'s crisis checks read: :func:`guarded_en` or :func:`guarded_ja`."""
    return guarded_en(text, lex) if lex.script == "en" else guarded_ja(text, lex)


def _crisis(text: str, lex: Lexicon) -> bool:
    """Whether ``lex``'s crisis rules, or else its crisis classifier, flag ``text``."""
    checked = guarded(text, lex)
    if any(rule.search(checked) for _, rule in lex.crisis_rules):
        return True
    return crisis_model(lex.locale).flags(checked)
