"""What is embedded and indexed for a document, and the taxonomy that bridges staff's words.

Staff search in their own words ("aggressive behaviour") for notes written in others' ("threw
a chair at a classmate"). A small static embedding model links the two only loosely, so each
document also carries the taxonomy concepts it belongs to: its label (the incident's category,
the intervention's type) and its text are compared with every concept's description, and the
concepts that fit add their names and words to what is embedded and to the full-text vector
(at the lowest weight). A query is matched to concepts the same way, and their words join its
full-text terms. The taxonomy is general school vocabulary (behaviour, wellbeing, learning,
attendance, support), written from the domain, not from any test set.

RECIPE names this way of building documents: it is part of the stored model name, so a change
here makes every document stale and the indexer rebuilds them."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

RECIPE = "r1"


@dataclass(frozen=True)
class Concept:
    name: str
    words: str  # what the concept is called and how staff describe it


TAXONOMY: tuple[Concept, ...] = tuple(
    Concept(name, words)
    for name, words in (
        (
            "physical aggression",
            "violence fighting hitting punching kicking pushing shoving "
            "throwing objects hurting attacking assault aggressive violent",
        ),
        (
            "verbal abuse",
            "swearing insults shouting abuse rude offensive language threats "
            "name-calling disrespect verbal aggression cursing",
        ),
        (
            "bullying",
            "bullying intimidation teasing picking on exclusion mocking harassment "
            "unkind behaviour towards peers victimised targeted",
        ),
        (
            "disruption",
            "disruption disruptive off-task talking calling out distracting "
            "others silliness messing about mucking around playing up clowning low-level "
            "misbehaviour noise interrupting lesson",
        ),
        (
            "hyperactivity",
            "hyperactive restless fidgety fidgeting can't sit still out of "
            "seat impulsive wandering around the room ADHD movement breaks",
        ),
        (
            "defiance",
            "defiance refusal refusing instructions non-compliance oppositional "
            "ignoring staff argumentative insolence disobedience",
        ),
        (
            "truancy",
            "truancy skipping school skipping lessons bunking off absent without "
            "permission leaving site missing class absconding out of lesson",
        ),
        ("lateness", "late punctuality arriving late tardy missed registration"),
        (
            "attendance",
            "attendance absence persistent absence days missed school refusal "
            "avoidance attendance plan",
        ),
        (
            "anxiety",
            "anxiety anxious worried nervous panic stress fear tearful overwhelmed "
            "exam stress test nerves",
        ),
        (
            "low mood",
            "low mood sad withdrawn isolated depressed quiet unhappy lonely "
            "crying emotional wellbeing mental health",
        ),
        (
            "safeguarding",
            "safeguarding self-harm harm concern disclosure risk child "
            "protection welfare designated safeguarding lead",
        ),
        (
            "home circumstances",
            "home family circumstances hunger hungry tired neglect "
            "housing young carer bereavement divorce money",
        ),
        ("damage", "damage vandalism breaking property graffiti destroying equipment broken"),
        ("theft", "theft stealing stole taking belongings missing items"),
        (
            "devices",
            "mobile phone device social media online cyberbullying messages screen headphones",
        ),
        (
            "kindness",
            "kindness helping others helped another pupil caring supportive "
            "friendly generous helpful empathy looked after a classmate",
        ),
        (
            "effort",
            "effort hard work working hard perseverance resilience focus diligence "
            "homework completed trying hard improvement",
        ),
        (
            "achievement",
            "achievement excellent work success award high marks progress "
            "praise outstanding results",
        ),
        (
            "leadership",
            "leadership responsibility role model prefect organising leading "
            "team captain initiative",
        ),
        ("literacy", "reading literacy phonics spelling writing comprehension books reading age"),
        (
            "numeracy",
            "maths mathematics numeracy arithmetic times tables number fractions calculation",
        ),
        (
            "special educational needs",
            "special educational needs SEN SEND ADHD autism dyslexia learning difficulty EHCP IEP",
        ),
        (
            "sensory needs",
            "sensory overload sensory processing noise sensitivity loud "
            "overwhelmed ear defenders meltdown overstimulated calm space sensory breaks",
        ),
        (
            "counselling",
            "counselling mentoring check-in pastoral support key worker "
            "talking therapy nurture group someone to talk to trusted adult listening "
            "emotional support",
        ),
        (
            "language",
            "English as an additional language EAL new arrival translation vocabulary bilingual",
        ),
        (
            "medical",
            "medical health condition asthma diabetes allergy epilepsy medication nurse care plan",
        ),
    )
)

# How close a text must be to a concept (cosine) to carry it, and how many it may carry
# (WordLlama's cosines run low: a note and its concept meet at 0.2-0.5.) A document carries
# up to two concepts, a query its closest one; each moves the vector CONCEPT_WEIGHT of a
# unit towards the concept's.
DOCUMENT_THRESHOLD = 0.15
QUERY_THRESHOLD = 0.20
DOCUMENT_CONCEPTS = 2
QUERY_CONCEPTS = 1
CONCEPT_WEIGHT = 0.5


def embedded_text(label: str, content: str) -> str:
    """What the model embeds for a document: its label, then its text ("category: note")."""
    return f"{label}: {content}" if label else content


_WORD = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b))
    return dot / norm if norm else 0.0


def matching(
    vector: Sequence[float], concepts: Sequence[Sequence[float]], threshold: float, most: int
) -> list[int]:
    """The indexes of the concepts `vector` is close enough to, closest first."""
    scored = sorted(((_cosine(vector, c), i) for i, c in enumerate(concepts)), reverse=True)
    return [i for score, i in scored[:most] if score >= threshold]


def mixed(
    vector: Sequence[float], concepts: Sequence[Sequence[float]], indexes: Sequence[int]
) -> list[float]:
    """`vector` moved towards its concepts' (CONCEPT_WEIGHT each), unit length again: notes
    and queries of one concept meet in the vector space too, whatever their words."""
    out = list(vector)
    for i in indexes:
        out = [x + CONCEPT_WEIGHT * c for x, c in zip(out, concepts[i], strict=True)]
    norm = math.sqrt(sum(x * x for x in out)) or 1.0
    return [x / norm for x in out]


def terms(indexes: Sequence[int]) -> str:
    """The full-text terms of some concepts: their names and words."""
    return " ".join(f"{TAXONOMY[i].name} {TAXONOMY[i].words}" for i in indexes)


def concept_texts() -> list[str]:
    return [f"{c.name}: {c.words}" for c in TAXONOMY]


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())
