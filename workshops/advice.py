"""Advice in disguise: tell a clarification question from a suggestion dressed as a question.

In Clarification the consultants ask questions to understand the situation; ideas and advice
come at the Consultation step. "Avez-vous pensé à déléguer ?" or "Why don't you talk to her?"
is advice with a question mark. `classify` spots the usual turns of phrase, in French and
English, with a few readable rules: the key of the rule that fired is the explanation shown
back (see docs/advice.md for why rules rather than a model, and the measured figures).

Pure Python, no database, no network. Work is bounded: only the first MAX_CHARS characters
are looked at, and every pattern is linear on that.
"""
import re
import unicodedata
from dataclasses import dataclass

from django.utils import translation
from django.utils.translation import gettext_lazy as _

MAX_CHARS = 500


@dataclass(frozen=True)
class Verdict:
    is_advice: bool
    language: str  # "fr" or "en"
    reason: str  # key of the rule that fired (see HINTS); "" for a genuine question


# --- Normalisation: one spelling for case, accents, apostrophes, hyphens and spaces ----------

_APOSTROPHES = str.maketrans({c: "'" for c in "’‘ʼ`´′"})
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae"})
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―−_]+")  # hyphens too: "avez-vous" = "avez vous"


def normalise(text: str) -> str:
    """Lower case, no accents, straight apostrophes, hyphens and all spaces as one space."""
    text = (text or "")[:MAX_CHARS].casefold().translate(_APOSTROPHES).translate(_LIGATURES)
    text = "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))
    return _SEPARATORS.sub(" ", text[:MAX_CHARS]).strip()  # again: NFKD can expand (ligatures)


# --- Language: count frequent words of each language -----------------------------------------

_FR_WORDS = frozenset(
    "est que qu tu vous pas le la les de du des un une ce ca cela et ne pourquoi comment quoi qui quand "
    "avec pour sur dans ton ta tes votre vos avez as il elle au aux son sa ses mon ma si plus non lui "
    "leur quel quelle quels quelles combien depuis faire serait pourrait mais tout aussi ou avoir etre fait bien tres deja moi toi d l c s n j m".split()
)
_EN_WORDS = frozenset(
    "you the to have why what did do does is it not of and your would could should how can with about "
    "this that for he she they him her been was were are be in at if or who when there don isn "
    "wouldn couldn shouldn didn doesn haven won any just maybe an here we my out so let get go think".split()
)
_WORD = re.compile(r"[a-z]+")


def detect_language(norm: str) -> str:
    words = _WORD.findall(norm)
    fr = sum(w in _FR_WORDS for w in words)
    en = sum(w in _EN_WORDS for w in words)
    return "en" if en > fr else "fr"


# --- Rules ------------------------------------------------------------------------------------
# Each rule: (reason, pattern, unless). A rule fires when its pattern matches the normalised
# text and its `unless` pattern (if any) does not. Rules marked OPEN_OK are also silenced when
# the clause they match in opens with a question word ("Qu'est-ce que tu pourrais faire ?",
# "What do you think you should do?"): an open question leaves the answer to the client.

_CLITICS = r"(?:(?:me|te|se|lui|leur|le|la|les|en|y|nous|vous) |[mtslj]'){0,3}"  # "lui en", "vous y", "l'"
_FR_SUBJ_PAST = r"(?:avez vous|as tu|tu as|t'as|vous avez|n'avez vous|n'as tu|tu n'as|t'as pas|vous n'avez)"
_FR_ADV = r"(?: (?:deja|jamais|pas|bien|un peu|seulement))*"
_NOT = r"(?:n't|nt)"

# A follow-up asking what came of it turns "have you tried…" into a question about facts.
_FOLLOW_UP_FR = (
    r"(?:qu'en (?:avez vous|as tu)|qu'est ce que (?:ca|cela) a (?:donne|change)|qu'avez vous (?:appris|compris|retenu)"
    r"|qu'as tu (?:appris|compris|retenu)|avec quel resultat|comment (?:ca|cela) s'est passe|qu'est ce qui en est ressorti)"
)
_FOLLOW_UP_EN = (
    r"(?:what did (?:you|it|that) (?:learn|give|show|bring|change|tell you)|how did (?:it|that) go"
    r"|what happened|what came (?:out )?of it|with what result|what was the result)"
)
# Asking the client to say more is a request for facts, not an idea.
_TELL_FR = (
    r"(?:nous |me )?(?:en )?(?:dire|preciser|expliquer|decrire|raconter|developper|detailler|clarifier|reformuler"
    r"|rappeler|donner un exemple|donner des exemples|nous donner|me donner|parler de|nous parler|en dire)"
)
_TELL_EN = (
    r"(?:tell|say|describe|explain|give (?:us|me)|clarify|specify|share|elaborate|expand|walk (?:us|me)|remind"
    r"|talk (?:us|me)|be more specific|put it|define|spell|summari[sz]e|help (?:us|me) understand|recall|remember"
    r"|have (?:done|been|said|known|seen|acted|reacted|\w+ed)|go back over|repeat)"
)
_OPEN_START = re.compile(
    r"^(?:and |so |but |et |alors |mais |donc )?(?:what|who|whom|how|when|where|which|qu'est ce|que |qu'"
    r"|qui |quoi|comment|quand|ou |quel|quelle|quels|quelles|combien|a quoi|de quoi|in what|to what|jusqu'ou)"
)

OPEN_OK = frozenset({"could_you", "should_you", "wouldnt_it_be_better"})

_RULES_SOURCE: list[tuple[str, str, str | None]] = [
    # ---- French ----
    # "Avez-vous pensé à déléguer ?", "Tu as envisagé de…", "As-tu songé à…" (not "pensé que…",
    # "pensé à ce moment-là que…", "pensé quoi").
    (
        "have_you_thought",
        rf"\b(?:est ce que )?{_FR_SUBJ_PAST}{_FR_ADV} (?:pense|songe|envisage|reflechi) (?:a|au|aux|de|d')\b",
        r"\b(?:pense|songe) a (?:ce moment|cet instant|quoi|ca\b|cela|l'epoque|tout ca)",
    ),
    ("have_you_thought", r", (?:vous y avez|tu y as|t'y as|y avez vous|y as tu|y avez vous deja|y as tu deja) (?:pense|songe)\b", None),
    ("did_you_try", rf"\b{_FR_SUBJ_PAST}{_FR_ADV} essaye (?:de|d'|le|la|les|un|une|des|du)\b", _FOLLOW_UP_FR),
    # "Pourquoi ne pas…", "Et pourquoi pas un binôme ?" (not "Pourquoi ne pas avoir prévenu…", past).
    ("why_not", r"\bpourquoi (?:ne )?pas (?!avoir\b|etre\b)[a-z]", None),
    # "Pourquoi tu ne lui dis pas…", "Pourquoi ne lui proposez-vous pas…" (not "ne veux pas", "n'as pas").
    (
        "why_not",
        rf"\bpourquoi (?:est ce que )?(?:tu|vous|on) (?:ne |n')?{_CLITICS}(?!(?:veux|voulez|peux|pouvez|sais|savez|as|avez|es|etes"
        r"|aimes|aimez|crois|croyez|penses|pensez|arrives|arrivez|oses|osez|etais|etiez|avais|aviez|ai)\b)[a-z]+ pas\b",
        None,
    ),
    (
        "why_not",
        rf"\bpourquoi (?:ne |n'){_CLITICS}(?!(?:veux|voulez|peux|pouvez|sais|savez|as|avez|es|etes|aimes|aimez|crois|croyez"
        r"|oses|osez|avais|aviez|etais|etiez)\b)[a-z]+ (?:tu|vous|t on) pas\b",
        None,
    ),
    # "Et si tu demandais à…", "Et si vous lui proposiez…" (not "Et s'il refuse ?", "et si tu étais…").
    ("what_if", rf"\bet si (?:tu|vous|on|nous) {_CLITICS}(?!etais|etiez|pouvais|pouviez)[a-z]+(?:ais|ait|ions|iez)\b", None),
    # "Que se passerait-il si tu refusais ce dossier ?": a conditional built on one of your moves.
    (
        "conditional_suggestion",
        rf"\b[a-z]+(?:rait|raient|rais|riez) .*\bsi (?:tu|vous) {_CLITICS}(?!etais|etiez|pouvais|pouviez|avais|aviez|devais|deviez)"
        r"[a-z]+(?:ais|ait|iez)\b",
        None,
    ),
    # "Une procédure écrite ne réglerait-elle pas l'essentiel ?", "Ne faudrait-il pas…"
    ("conditional_suggestion", r"\bne [a-z]+(?:rait|raient) (?:t )?(?:il|elle|ils|elles|ce|on) pas\b", None),
    # "Tu pourrais peut-être…", "Vous ne pourriez pas…", "Pourriez-vous lui demander…" (not "pourriez-vous préciser").
    ("could_you", rf"\b(?:tu|vous|on) (?:ne )?{_CLITICS}(?:pourrais|pourriez|pourrait|peux pas|pouvez pas)\b(?!(?: pas)? {_TELL_FR})", None),
    ("could_you", rf"\b(?:pourrais tu|pourriez vous|pourrait on|peux tu pas|ne pourrais tu|ne pourriez vous)\b(?!(?: pas)? {_TELL_FR})", None),
    ("could_you", r"\bpeut etre (?:que )?(?:tu|vous|on) ", None),
    # "Ne devriez-vous pas…", "Tu devrais peut-être…", "Il faudrait…", "Ne penses-tu pas que tu devrais…"
    ("should_you", r"\b(?:tu|vous|on) (?:ne )?(?:devrais|devriez|devrait)\b|\b(?:devrais tu|devriez vous|devrait on)\b", None),
    ("should_you", r"\bfaudrait\b", None),
    # "Ne serait-il pas plus simple de…", "Ce serait pas mieux…", "Un point hebdo, ce ne serait pas une solution ?"
    (
        "wouldnt_it_be_better",
        r"\b(?:serait (?:il|ce|elle)|ce (?:ne )?serait|ca (?:ne )?serait|il (?:ne )?serait|ne serait|est ce que ce serait)"
        r"(?: pas)?(?: peut etre)? (?:plus|mieux|moins|preferable|judicieux|utile|interessant|envisageable|possible"
        r"|pertinent|souhaitable|opportun|intelligent|sage|juste|bien|l'occasion|le moment"
        r"|une? (?:solution|piste|option|idee|bonne idee|moyen|bonne chose))\b",
        None,
    ),
    ("wouldnt_it_be_better", r"\bvaudrait\b", None),
    ("wouldnt_it_be_better", r"\b(?:aurais|auriez|aurait)(?: tu| vous| il)?(?: pas)? (?:interet|avantage|moyen)\b", None),
    ("wouldnt_it_be_better", r"\b(?:ca|cela) (?:ne )?(?:t'|vous |te |lui )?(?:aiderait|aiderais|simplifierait|faciliterait)\b", None),
    # "Que dirais-tu d'un entretien à trois ?", "Qu'est-ce que tu penserais de lui confier… ?"
    (
        "how_about",
        r"\b(?:penserais|penseriez|dirais|diriez|penses|pensez)(?: tu| vous)? (?:d'un|d'une|de (?:lui |en |y )?"
        r"(?!(?:votre|notre|leur|autre|mere|pere|frere)\b)[a-z]+(?:er|ir|re)\b|si (?:tu|vous|on) )",
        None,
    ),
    ("time_to", r"\b(?:n'est il pas|il est peut etre|serait il|il serait(?: peut etre)?|ne serait il pas) temps\b", None),
    # "Déléguer, c'est pas possible ?", "Demander de l'aide, c'est une option pour toi ?": an idea put on the table.
    (
        "how_about",
        r"^(?:et |mais )?[^,?]{3,80}, (?:c'est|ce serait|ca serait|ce ne serait|ca ne serait|ce n'est|ca n'est|est ce)(?: pas)?"
        r"(?: vraiment)? (?:possible|envisageable|une option|une piste|une solution|une idee|jouable|faisable|imaginable)\b",
        None,
    ),
    # "Et en parler à ton N+2 ?", "Et déléguer ?": "and" + an infinitive (not "Et votre N+1 ?", "Et hier ?").
    (
        "how_about",
        r"^et (?:(?:en|y|lui|me|te|se) |[mtsl]')?(?!(?:votre|notre|autre|autres|entre|contre|hier|premier|premiere|dernier"
        r"|derniere|pere|mere|frere|cadre|centre|ordre|titre|lettre|nombre|membre|maitre|dossier|metier|quartier|chantier"
        r"|courrier|calendrier|fournisseur|infirmier|infirmiere|conseiller|conseillere|particulier|cahier|foyer|loyer)\b)"
        r"[a-z]+(?:er|ir|re)\b(?!.*\b(?:qu'est ce|comment|pourquoi|quand|qui|quoi|quel|quelle|qu'en)\b)",
        None,
    ),
    # "Vous ne voulez pas essayer de…", "Tu n'as pas envie de lui dire ?" (not "Pourquoi tu ne veux pas… ?").
    (
        "dont_you_want",
        rf"(?<!pourquoi )\b(?:tu|vous) (?:ne )?(?:veux|voulez) pas {_CLITICS}[a-z]+(?:er|ir|re)\b|\b(?:tu|vous) n'(?:as|avez) pas envie de\b",
        None,
    ),
    # "Il y a peut-être moyen de…", "Il faut peut-être revoir…"
    ("maybe_you", r"\bpeut etre\b.{0,30}\b(?:moyen|faut|faudrait|devrai[st]|devriez|pourrai[st]|pourriez|serait|vaudrait|temps)\b", None),
    ("maybe_you", r"\b(?:il faut|il faudrait|tu devrais|vous devriez|tu pourrais|vous pourriez|il vaudrait|ce serait) peut etre\b", None),
    ("maybe_you", r"\b(?:il y a|y a t il|y aurait il|il y aurait|il n'y a|il n'y aurait)(?: pas)?(?: peut etre)? moyen de\b", None),
    # "Vous ne pensez pas qu'un peu plus de fermeté serait nécessaire ?": an opinion on what should be done.
    (
        "should_you",
        r"\b(?:ne (?:penses|pensez|crois|croyez|trouves|trouvez) (?:tu |vous )?pas|(?:tu|vous) ne (?:penses|pensez|crois|croyez"
        r"|trouves|trouvez) pas)\b.{0,80}\b(?:serait|faudrait|devrai[st]|devriez|pourrai[st]|pourriez|necessaire|mieux|il faut"
        r"|important de|utile de|temps de)\b",
        None,
    ),
    # "Si tu lui proposais un autre horaire, tu crois qu'il accepterait ?"
    (
        "conditional_suggestion",
        rf"\bsi (?:tu|vous) {_CLITICS}(?!etais|etiez|pouvais|pouviez|avais|aviez|devais|deviez)[a-z]+(?:ais|ait|iez)\b.*\b[a-z]+"
        r"(?:rait|raient|rais|riez)\b",
        None,
    ),
    # "Le mieux, ce ne serait pas de…", "L'idéal serait de…"
    ("wouldnt_it_be_better", r"\b(?:le mieux|le plus simple|le plus efficace|l'ideal|le plus sage)\b.{0,20}\b(?:serait|c'est (?:pas )?de)\b", None),
    # "Une formation, ça ne réglerait pas le problème ?", "Est-ce qu'un médiateur aiderait ?"
    (
        "wouldnt_it_be_better",
        r"\b(?:aiderait|aideraient|reglerait|regleraient|resoudrait|debloquerait|apaiserait|soulagerait|arrangerait"
        r"|ameliorerait|faciliterait|simplifierait)\b",
        None,
    ),
    # ---- English ----
    # "Have you thought about speaking to her?", "Have you considered hiring…", "Did you think about calling…"
    (
        "have_you_thought",
        r"\b(?:have|did|had) you (?:ever |not |never |already |also )?(?:thought (?:about|of|to)|think (?:about|of|to)|considered"
        r"|consider|looked into|look into)\b(?! (?:it|that|this|what|how|why|whether|who|when|where)\b)",
        None,
    ),
    (
        "have_you_thought",
        r"\bwould you (?:not )?(?:consider|think about|be open to|try)\b|\bdid it (?:ever )?occur to you to\b",
        None,
    ),
    # "Have you tried meeting him…", "Did you try asking…" (not "What have you tried so far?", nor
    # "Have you tried to find out why — what did you learn?").
    (
        "did_you_try",
        r"\b(?:have|did) you (?:ever |already |also )?(?:tried|try) (?!(?:every|any|some|no)thing\b)(?:[a-z]+ing|a|an|the|to|some|going|out)\b",
        _FOLLOW_UP_EN,
    ),
    # "Why don't you…", "Why not just…" (not "Why don't you want to…", "Why not?").
    (
        "why_not",
        rf"\bwhy (?:not|do{_NOT} (?:you|we)|would{_NOT} you|wo{_NOT} you|do you not) (?!(?:want|like|trust|feel|think|know"
        r"|believe|agree|have|see|understand|care|say|mind)\b)[a-z]",
        None,
    ),
    # "What if you simply asked…", "And if you asked…" (not "What if you're wrong?").
    (
        "what_if",
        r"\b(?:what|and|but|so) if (?:you|we|the two of you|both of you|you two) (?!(?:are|re|were(?! to)|lose|fail|can|cant|can't"
        r"|don't|dont|had to|have to|need|get|failed|lost|weren't|won't|will)\b)[a-z]",
        None,
    ),
    # "What would happen if you turned it down?" (not "if you were in her shoes", "if you could").
    (
        "conditional_suggestion",
        r"\b(?:would|could|might)\b.*\bif you (?:just |simply |only |were to )?(?!were\b|could\b|had\b|felt\b|knew\b|needed\b)"
        r"(?:[a-z]{2,}ed|told|gave|said|let|spoke|took|made|met|sent|put|set|went|brought|sat|held|wrote|did|left|chose|ran"
        r"|began|paid|kept|showed|tried|were to)\b",
        None,
    ),
    ("how_about", r"\b(?:how|what) about (?!you\b|your\b|yourself\b)(?:[a-z]+ing|a|an|some|trying|asking)\b", None),
    # "Could you not just ask…", "You could set up…", "Couldn't you…", "Can't you just…" (not "Could you tell us…").
    ("could_you", rf"\b(?:could|might) you\b(?! {_TELL_EN}\b)(?! (?:please )?(?:tell|say|give us|describe))", None),
    ("could_you", rf"\b(?:could{_NOT}|ca{_NOT}) you\b|\bcan you (?:not|just|simply)\b", None),
    (
        "could_you",
        r"(?<!\bsomething )(?<!\banything )(?<!\bwhat )(?<!\bthat )(?<!\bwhich )(?<!\bwhether )(?<!\bif )"
        r"(?<!\bthink )(?<!\bfeel )(?<!\bbelieve )(?<!\bsure )(?<!\bconfident )"
        r"\byou (?:could|might|can always)\b(?! (?:have|be)\b)",
        None,
    ),
    ("maybe_you", r"\b(?:maybe|perhaps)\b.{0,60}\b(?:should|could|might|ought|can)\b", None),
    # "Shouldn't you…", "Don't you think you should…", "Isn't the real issue that you should…"
    ("should_you", rf"\bshould{_NOT}? (?:you|we|the|it|that|this|he|she|they)\b|\byou (?:should|ought|'d better|had better)\b", None),
    ("should_you", r"\bought (?:you|we)\b", None),
    # "Wouldn't it be better…", "Would it help to…", "Wouldn't a meeting… be worth a try?"
    ("wouldnt_it_be_better", rf"(?<!\bwhy )\bwould{_NOT} (?:it|that|this|you|a|an|the|your|they|some)\b", None),
    (
        "wouldnt_it_be_better",
        r"\b(?:would (?:it|that|this)|(?:it|that|this) (?:would|'d)) (?:not )?(?:be (?:better|easier|simpler|wiser|worth|useful|helpful|a good idea|an option"
        r"|smarter|fairer|more|best|good to|possible to|sensible|safer)|help|make sense|work better|pay off)",
        None,
    ),
    ("wouldnt_it_be_better", r"^(?:and |so |but )?would (?:a|an|the|some|your|it|that|this|you|they)\b[^?]{0,60}\bnot\b", None),
    ("wouldnt_it_be_better", r"\bbetter off\b|\b(?:it )?(?:might|may) (?:it )?be (?:worth|better|wise|good|useful|an idea)\b|\bmight it be\b", None),
    (
        "wouldnt_it_be_better",
        rf"\b(?:is{_NOT}|is it not|is that not|would{_NOT})\b.{{0,50}}\b(?:an option|a solution|the solution|the answer|an idea"
        r"|a good idea|worth (?:a try|trying|considering))\b",
        None,
    ),
    (
        "time_to",
        rf"\b(?:is{_NOT} it|is it not|is it) (?:high |about )?time\b|\b(?:is{_NOT} this|is this not) the (?:moment|time|occasion|opportunity)\b",
        None,
    ),
    ("could_you", r"\bis there no way\b", None),
    # "What would you think of a three-way meeting?", "What do you think about asking HR?"
    ("how_about", r"\bwhat (?:do|would) you (?:think|say) (?:of|about|to) (?:[a-z]+ing|a|an|the idea|trying|asking)\b", None),
    # "Is there a reason you can't just say no?", "Why can't you simply…"
    ("could_you", rf"\byou (?:ca{_NOT}|cannot|can not) (?:just|simply)\b", None),
    # "Don't you want to try…", "Aren't you going to escalate this?" (not "Why don't you want to…?").
    ("dont_you_want", rf"(?<!why )\b(?:do{_NOT} you want to|do you not want to|are{_NOT} you going to|are you not going to)\b", None),
    # "Don't you think a bit more firmness is needed?": an opinion on what should be done.
    (
        "should_you",
        rf"\b(?:do{_NOT} you|do you not) (?:think|feel|believe|reckon)\b.{{0,80}}\b(?:should|would|could|need|needed|needs"
        r"|better|might|ought|must|time to|worth)\b",
        None,
    ),
    # "If you offered him different hours, do you think he'd accept?"
    (
        "conditional_suggestion",
        r"^(?:and |so |but )?if you (?:just |simply |only |were to )?(?!were\b|could\b|had\b|felt\b|knew\b|needed\b)"
        r"(?:[a-z]{2,}ed|told|gave|said|let|spoke|took|made|met|sent|put|set|went|brought|sat|held|wrote|did|left|chose|ran"
        r"|began|paid|kept|showed|tried|were to)\b.*\b(?:would|'d|could|might)\b",
        None,
    ),
    # "The best thing might be to start again from scratch?"
    (
        "wouldnt_it_be_better",
        r"\bthe (?:best|simplest|easiest|ideal|smartest|wisest|right)(?: [a-z]+)? (?:might|would|could|may) be\b",
        None,
    ),
    # "Would conflict management training help you?", "Could delegating be an option?"
    (
        "wouldnt_it_be_better",
        r"^(?:and |so |but )?(?:would|could|might) (?!you\b|it be fair|it be right|that be a problem)[a-z' ]{2,60}"
        r"\b(?:help|solve|fix|settle|work|make (?:a|any) difference|improve|ease|reassure|calm|be an option|be a solution"
        r"|be possible|be worth)\b",
        None,
    ),
    # "Is asking an older colleague for help an option for you?": a gerund put forward as an option.
    ("how_about", r"^(?:and )?(?:is|isn't|would|wouldn't) [a-z]+ing\b.{0,60}\b(?:an option|a solution|possible|worth)\b", None),
    # "And talking to your boss's boss?", "And mediation, have you considered it?"
    (
        "how_about",
        r"^(?:and|or) (?!(?:during|nothing|something|anything|everything|being|according|morning|evening|thing|things"
        r"|meeting|building|feeling|training|funding|timing|setting|staffing|nursing|marketing|spring)\b)[a-z]+ing\b"
        r"(?!.*\b(?:what|how|who|when|where|why|which)\b)",
        None,
    ),
    ("have_you_thought", r"^(?:and )?[^,?]{2,60}, (?:have|did) you (?:ever |already )?(?:considered|thought (?:about|of)|tried) (?:it|that|this)\b", None),
]

RULES = [
    (reason, re.compile(pattern), re.compile(unless) if unless else None) for reason, pattern, unless in _RULES_SOURCE
]


def _opens_with_question_word(norm: str, at: int) -> bool:
    """Whether the clause holding position `at` starts with a question word (what, comment…)."""
    start = max(norm.rfind(mark, 0, at) for mark in ",;:.!?()«»\"")
    return bool(_OPEN_START.match(norm[start + 1 :].lstrip(" «»\"")))


def classify(text: str) -> Verdict:
    norm = normalise(text)
    language = detect_language(norm)
    for reason, pattern, unless in RULES:
        if unless is not None and unless.search(norm):
            continue
        for match in pattern.finditer(norm):
            if reason in OPEN_OK and _opens_with_question_word(norm, match.start()):
                continue
            return Verdict(True, language, reason)
    return Verdict(False, language, "")


def is_advice(text: str) -> bool:
    return classify(text).is_advice


# --- Hints shown to the consultant who wrote the question ----------------------------------------

HINT = _(
    "This question may carry a suggestion. Clarification is for understanding the situation in depth and "
    "removing any ambiguity: ask what, how, who, when… Ideas and advice come at the Consultation step. "
    "Rephrase it, or post it anyway."
)
HINTS = {
    "have_you_thought": _("“Have you thought of…” usually offers an idea. To understand, ask what the client has already considered."),
    "did_you_try": _("“Have you tried…” usually offers a solution. To understand, ask what the client has already tried and what came of it."),
    "why_not": _("“Why not…” or “Why don't you…” proposes an action. To understand, ask what holds the client back."),
    "what_if": _("“What if you…” proposes an action. To understand, ask how the client sees the options."),
    "conditional_suggestion": _("A hypothesis built on something the client could do is an idea in disguise. Ask about what happened."),
    "could_you": _("“You could…” proposes an action. To understand, ask what the client can or cannot do, and why."),
    "maybe_you": _("“Maybe you could…” proposes an action. To understand, ask what the client can or cannot do, and why."),
    "should_you": _("“Shouldn't you…” tells the client what to do. To understand, ask what is expected of them, and by whom."),
    "wouldnt_it_be_better": _("“Wouldn't it be better…” compares the situation with a solution of your own. Keep it for the Consultation."),
    "dont_you_want": _("“Don't you want to…” slips in what you would do. To understand, ask what the client wants."),
    "time_to": _("“Isn't it time to…” pushes a decision. To understand, ask what the client is waiting for."),
    "how_about": _("“How about…” proposes an idea. Keep it for the Consultation."),
}


def hint_text(verdict: Verdict, language: str | None = None) -> str:
    """The hint for a flagged question, in `language` (default: the active language)."""
    if not verdict.is_advice:
        return ""
    with translation.override(language or translation.get_language()):
        specific = HINTS.get(verdict.reason, "")
        return f"{HINT} {specific}".strip()
