"""skill.checkin.engine: what one answer to "how was your day?" says, as tags only.

Every sentence here was written for these tests; none comes from the development set
(tests/checkin/test_lexicon.py checks that).
"""

from __future__ import annotations

import dataclasses

import pytest

from skill.checkin import Reading, analyze
from skill.checkin.lexicon import load_lexicon
from skill.errors import UnsupportedLocaleError

POLARITY_EN = [
    ("my boss criticized my report in front of the whole team", "negative"),
    ("i spilled coffee on my shirt before the interview", "negative"),
    ("the train was delayed again and i was late for class", "negative"),
    ("nobody remembered my birthday", "negative"),
    ("it wasn't great", "negative"),
    ("i had an argument with my husband about money", "negative"),
    ("we had a picnic and the kids had a blast", "positive"),
    ("i finally finished the report and my manager loved it", "positive"),
    ("i got some good news from the doctor", "positive"),
    ("the presentation went really well", "positive"),
    ("the meeting was stressful but lunch with my sister was great", "mixed"),
    ("i love my new job but the commute is exhausting", "mixed"),
    ("the weather was awful but we still had fun", "mixed"),
    ("i just worked and then watched some tv", "neutral"),
    ("pretty ordinary day really", "neutral"),
    ("i went to the post office and did the dishes", "neutral"),
]
POLARITY_JA = [
    ("雨でびしょ濡れになって最悪だった", "negative"),
    ("仕事でミスして落ち込んだ", "negative"),
    ("朝から頭が痛くてつらかった", "negative"),
    ("友達に無視された気がする", "negative"),
    ("久しぶりに家族でご飯を食べて楽しかった", "positive"),
    ("プレゼンがうまくいってほっとした", "positive"),
    ("同僚が手伝ってくれて助かった", "positive"),
    ("娘と公園で遊んで癒された", "positive"),
    ("仕事は大変だったけど夜は家族とゆっくりできた", "mixed"),
    ("面接は緊張したけどうまく話せた", "mixed"),
    ("家で洗濯して買い物に行った", "neutral"),
    ("いつもと変わらない一日でした", "neutral"),
    ("会議が三つあって夕方に帰った", "neutral"),
]
CRISIS_EN = [
    "i want to kill myself",
    "sometimes i think everyone would be happier if i wasn't around",
    "i don't want to wake up tomorrow",
    "i've been hurting myself to cope",
    "i wish i was dead",
    "i feel like there's no reason to live",
    "i'm planning to end it this weekend",
    "i keep thinking the world would be better without me",
    "i feel so hopeless i just want to disappear for good",
    "i've been saving up my pills",
    "what's the point of living anymore",
    "i'm a burden to my family",
    "i don't feel safe with myself tonight",
    "i just can't go on like this",
    "i'm thinking about suicide",
    "nobody would care if i died",
    "i don't want to exist anymore",
    "honestly i dont want to be here anymore",
]
CRISIS_JA = [
    "死にたい",
    "もう消えたい",
    "生きてても意味がない",
    "自分なんかいない方がいいと思う",
    "明日の朝目が覚めなければいいのに",
    "リスカしちゃった",
    "家族に迷惑ばかりかけてる、いなくなりたい",
    "もう楽になりたい",
    "自殺を考えてる",
    "遺書を書いた",
    "今夜自分が何をするかわからなくて怖い",
    "生きるのがつらい",
    "この世からいなくなりたい",
    "睡眠薬をまとめて飲もうと思ってる",
    "誰にも必要とされてないし、いなくなっても誰も困らない",
    "死んだら楽になれるかな",
]
HYPERBOLE = [
    ("this commute is killing me", "en-US", "negative"),
    ("i could die of embarrassment after that call", "en-US", "negative"),
    ("i laughed so hard i nearly died", "en-US", "positive"),
    ("i'm dying to see the new movie", "en-US", "neutral"),
    ("this homework is going to be the death of me", "en-US", "negative"),
    ("i wanted to disappear when my joke fell flat so embarrassing", "en-US", "negative"),
    ("死ぬほど眠い", "ja-JP", "negative"),
    ("恥ずかしくて消えたいくらいだった", "ja-JP", "negative"),
    ("笑いすぎて死ぬかと思った", "ja-JP", "positive"),
    ("お腹が空いて死にそう", "ja-JP", "neutral"),
    ("暑すぎて溶けそう", "ja-JP", "negative"),
]


class TestPolarity:
    @pytest.mark.parametrize(("text", "expected"), POLARITY_EN)
    def test_english_days(self, text: str, expected: str) -> None:
        """If an English answer describes a day, then its polarity is the day's overall feeling."""
        assert analyze(text, "en-US").polarity == expected

    @pytest.mark.parametrize(("text", "expected"), POLARITY_JA)
    def test_japanese_days_without_spaces(self, text: str, expected: str) -> None:
        """If a Japanese answer has no spaces or punctuation, then it is still read whole."""
        assert analyze(text, "ja-JP").polarity == expected

    @pytest.mark.parametrize(("text", "locale", "expected"), [
        ("not bad", "en-US", "positive"),
        ("it was not good at all", "en-US", "negative"),
        ("i could not be happier", "en-US", "positive"),
        ("today was not fun", "en-US", "negative"),
        ("悪くはなかったよ", "ja-JP", "positive"),
        ("今日は全然楽しくなかった", "ja-JP", "negative"),
        ("あまりよく眠れなかった", "ja-JP", "negative"),
        ("いいことは何もなかった", "ja-JP", "negative"),
    ])
    def test_negation(self, text: str, locale: str, expected: str) -> None:
        """If a feeling word is negated, then the polarity follows the negation."""
        assert analyze(text, locale).polarity == expected

    @pytest.mark.parametrize(("text", "locale"), [
        ("good morning but an awful evening", "en-US"),
        ("lunch was lovely though the afternoon was rough", "en-US"),
        ("午前は楽しかったのに午後は最悪だった", "ja-JP"),
        ("仕事はつらかったでも夜は楽しかった", "ja-JP"),
    ])
    def test_contrast_makes_a_mixed_day(self, text: str, locale: str) -> None:
        """If a good part and a bad part are joined by but / のに / でも, then the day is mixed."""
        assert analyze(text, locale).polarity == "mixed"

    def test_intensifier_outweighs_a_small_upside(self) -> None:
        """If a strong negative is intensified, then a small positive word does not flip the day."""
        assert analyze("it was really really awful and only a bit fun", "en-US").polarity in (
            "negative", "mixed")

    def test_sarcasm_after_a_mishap(self) -> None:
        """If praise follows a mishap with a sarcasm cue, then the day is negative."""
        assert analyze("oh wonderful my phone broke again", "en-US").polarity == "negative"
        assert analyze("雨に降られるとか本当に最高だね", "ja-JP").polarity == "negative"

    def test_exercise_tiredness_is_not_a_complaint(self) -> None:
        """If the tiredness comes from chosen exercise, then it does not make the day bad."""
        assert analyze("the run wiped me out but i feel fantastic", "en-US").polarity == "positive"


class TestCrisis:
    @pytest.mark.parametrize("text", CRISIS_EN)
    def test_english_explicit_and_indirect(self, text: str) -> None:
        """If an English answer expresses ideation, self-harm or danger, then it is a crisis."""
        reading = analyze(text, "en-US")
        assert reading.crisis
        assert reading.polarity == "negative"

    @pytest.mark.parametrize("text", CRISIS_JA)
    def test_japanese_explicit_and_indirect(self, text: str) -> None:
        """If a Japanese answer expresses ideation, self-harm or danger, then it is a crisis."""
        assert analyze(text, "ja-JP").crisis

    @pytest.mark.parametrize(("text", "locale", "polarity"), HYPERBOLE)
    def test_everyday_hyperbole_is_not_a_crisis(self, text: str, locale: str,
                                                polarity: str) -> None:
        """If death words are everyday exaggeration, then there is no crisis and the mood is read."""
        reading = analyze(text, locale)
        assert not reading.crisis
        assert reading.polarity == polarity

    @pytest.mark.parametrize(("text", "locale"), [
        ("my laptop died during the call", "en-US"),
        ("i want to finish this week and go home", "en-US"),
        ("i made a mistake at work", "en-US"),
        ("i do not want to wake up early tomorrow", "en-US"),
        ("包丁で手を切ってしまった", "ja-JP"),
        ("みんなに迷惑をかけてしまって反省してる", "ja-JP"),
        ("早く仕事を終わらせたい", "ja-JP"),
        ("誰も髪型の変化に気づかない", "ja-JP"),
    ])
    def test_near_misses_are_not_crises(self, text: str, locale: str) -> None:
        """If harm-like words describe ordinary events, then there is no crisis."""
        assert not analyze(text, locale).crisis

    @pytest.mark.parametrize("text", [
        "i want to stop", "i wanna stop", "i'm ready to stop", "i would like to stop here",
        "let's just leave it", "let's end it there", "leave it there", "i want to be alone",
        "i want to be done for today", "let it be", "just leave it be",
    ])
    def test_stopping_the_conversation_is_not_a_crisis(self, text: str) -> None:
        """If the person only wants to stop (often in the skill's own words: "we can leave
        today there"), then there is no crisis reply; "end it" on its own stays a cue."""
        assert not analyze(text, "en-US").crisis
        assert analyze("i want to end it", "en-US").crisis
        assert analyze("i want it all to stop", "en-US").crisis

    @pytest.mark.parametrize("text", ["このままにしておきたい", "そのままでいいです", "もう寝たい",
                                      "今日はもう寝たいです"])
    def test_japanese_wishes_to_stop_are_not_a_crisis(self, text: str) -> None:
        """If the person only wants to leave it there or go to sleep, then there is no crisis
        reply; 「このまま消えたい」 and a wish never to wake up still are."""
        assert not analyze(text, "ja-JP").crisis
        assert analyze("このまま消えたい", "ja-JP").crisis
        assert analyze("もう寝たい、二度と起きたくない", "ja-JP").crisis

    @pytest.mark.parametrize(("text", "locale"), [
        ("i took too many pills", "en-US"),
        ("i took too many pills by accident", "en-US"),
        ("i took too much of my medication", "en-US"),
        ("薬を飲みすぎた", "ja-JP"),
        ("睡眠薬を多めに飲んでしまった", "ja-JP"),
    ])
    def test_an_overdose_already_taken_is_a_crisis(self, text: str, locale: str) -> None:
        """If the person has taken too much medicine, on purpose or not, then the crisis reply
        (with 911 / 119) comes; too much wine or too many vitamins is an ordinary day."""
        assert analyze(text, locale).crisis
        assert not analyze("i took too many vitamins and had too much wine", "en-US").crisis
        assert not analyze("お酒を飲みすぎた", "ja-JP").crisis

    @pytest.mark.parametrize(("text", "locale", "grief"), [
        ("my dog died today", "en-US", True),
        ("my grandmother passed away on sunday", "en-US", True),
        ("it's a year since i lost my dad", "en-US", True),
        ("my laptop died during the call", "en-US", False),
        ("i lost my keys again", "en-US", False),
        ("祖母が亡くなった", "ja-JP", True),
        ("飼い猫が死んでしまった", "ja-JP", True),
        ("パソコンが死んだ", "ja-JP", False),
    ])
    def test_a_death_or_loss_is_grief(self, text: str, locale: str, grief: bool) -> None:
        """If a person or an animal died, then the reading says grief (and the day is not a
        neutral one); a laptop that "died" or lost keys are no loss of that kind."""
        reading = analyze(text, locale)
        assert ("grief" in reading.emotions) is grief
        if grief:
            assert reading.polarity in ("negative", "mixed")
            assert not reading.crisis

    def test_crisis_inside_a_long_answer(self) -> None:
        """If a crisis sentence ends a long answer, then it is still found."""
        text = "work was fine and lunch was nice " * 100 + "but i want to die"
        assert analyze(text, "en-US").crisis

    def test_japanese_crisis_said_to_the_english_skill(self) -> None:
        """If a Japanese crisis phrase reaches the en-US skill, then it is still a crisis."""
        assert analyze("today was bad 死にたい", "en-US").crisis

    def test_english_crisis_inside_japanese(self) -> None:
        """If an English crisis phrase is mixed into Japanese, then it is still a crisis."""
        assert analyze("今日は i want to kill myself って思った", "ja-JP").crisis


class TestTags:
    def test_emotions_topics_and_reflect_term(self) -> None:
        """If an answer names a feeling and a person, then both come back as normalized tags."""
        reading = analyze("i felt so anxious after my boss snapped at me", "en-US")
        assert "anxious" in reading.emotions
        assert "work" in reading.topics
        assert reading.reflect_term == "boss"

    def test_japanese_reflect_term_uses_the_shared_id(self) -> None:
        """If a Japanese answer mentions 上司, then the reflect term is the shared id 'boss'."""
        reading = analyze("上司にきつく言われて悲しかった", "ja-JP")
        assert reading.reflect_term == "boss"
        assert "sad" in reading.emotions

    def test_negated_emotion_is_dropped(self) -> None:
        """If a feeling is negated, then it is not reported as felt."""
        assert "happy" not in analyze("i was not happy today", "en-US").emotions

    def test_reflect_term_is_never_raw_text(self) -> None:
        """If the answer contains unknown words, then the reflect term is still a lexicon id."""
        reading = analyze("my zorblax coworker ruined the spreadsheet", "en-US")
        ids = {t.reflect for t in load_lexicon("en-US").terms.values() if t.reflect}
        assert reading.reflect_term in ids

    @pytest.mark.parametrize(("text", "locale", "stage"), [
        ("i went to the bank and then cooked dinner", "en-US", "facts"),
        ("i felt really lonely after work", "en-US", "feelings"),
        ("i realize my friends matter to me more than work", "en-US", "meaning"),
        ("i think i will call my sister tomorrow and tell her", "en-US", "next_step"),
        ("銀行に行って夕飯を作った", "ja-JP", "facts"),
        ("仕事のあとすごく寂しかった", "ja-JP", "feelings"),
        ("家族が大切なんだと改めて気づいた", "ja-JP", "meaning"),
        ("明日は妹に相談してみようと思う", "ja-JP", "next_step"),
    ])
    def test_disclosure_stage(self, text: str, locale: str, stage: str) -> None:
        """If an answer reaches a disclosure stage, then the reading reports that stage."""
        assert analyze(text, locale).stage == stage

    def test_reading_is_frozen(self) -> None:
        """If code tries to change a reading, then it cannot."""
        reading = analyze("good day", "en-US")
        with pytest.raises(dataclasses.FrozenInstanceError):
            reading.polarity = "negative"  # type: ignore[misc]


class TestFailurePaths:
    @pytest.mark.parametrize("text", ["", "   ", "\n\t", "...", "um", "えっと", "うーん、まあ"])
    def test_empty_or_filler_is_unclear(self, text: str) -> None:
        """If an answer is empty or only filler, then the reading is unclear and neutral."""
        locale = "ja-JP" if any(ord(c) > 0x3000 for c in text) else "en-US"
        reading = analyze(text, locale)
        assert reading.unclear
        assert reading.polarity == "neutral"
        assert not reading.crisis

    def test_emoji_only_answer(self) -> None:
        """If the answer is a feeling emoji, then it is understood."""
        happy = analyze("😊", "en-US")
        assert not happy.unclear and happy.polarity == "positive"
        assert analyze("😭😭", "ja-JP").polarity == "negative"

    def test_unknown_symbols_are_unclear(self) -> None:
        """If the answer is only unknown symbols, then it is unclear, not a crash."""
        assert analyze("🦄 ✨ ###", "en-US").unclear

    def test_very_long_input(self) -> None:
        """If the answer is very long, then it is read without error."""
        reading = analyze("it was a lovely calm afternoon " * 5_000, "en-US")
        assert reading.polarity == "positive"
        assert isinstance(analyze("楽しかった" * 10_000, "ja-JP"), Reading)

    def test_mixed_scripts(self) -> None:
        """If an answer mixes Japanese and English, then both parts count."""
        assert analyze("今日は最悪 but dinner was great", "ja-JP").polarity == "mixed"

    @pytest.mark.parametrize("locale", ["fr-FR", "", "xx"])
    def test_unknown_locale(self, locale: str) -> None:
        """If the locale has no lexicon, then a clear UnsupportedLocaleError names it."""
        with pytest.raises(UnsupportedLocaleError, match="no lexicon for locale"):
            analyze("good day", locale)

    def test_language_fallback(self) -> None:
        """If the locale is another region of a supported language, then that lexicon is used."""
        assert analyze("great day", "en-GB").locale == "en-US"
        assert analyze("楽しかった", "ja").locale == "ja-JP"

    def test_non_text(self) -> None:
        """If the answer is not a string, then a TypeError says so."""
        with pytest.raises(TypeError, match="needs text as str"):
            analyze(None, "en-US")  # type: ignore[arg-type]
