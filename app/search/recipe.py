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

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

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
        (
            "prejudice",
            "racist sexist homophobic transphobic prejudice discrimination slur hate incident "
            "religious insult",
        ),
        (
            "substances",
            "smoking vaping vape cigarettes alcohol drinking drugs cannabis substance misuse",
        ),
        (
            "honesty",
            "lying dishonesty cheating copying plagiarism forged note excuse deceit",
        ),
        (
            "uniform and equipment",
            "uniform dress code jewellery trainers makeup equipment forgotten kit no pen",
        ),
        (
            "bereavement",
            "bereavement grief death loss funeral passed away mourning",
        ),
        (
            "domestic abuse",
            "domestic abuse violence at home police called to the home parents fighting "
            "afraid to go home",
        ),
        (
            "eating",
            "eating disorder not eating skipping meals weight food refusal",
        ),
        (
            "tiredness",
            "tired sleepy exhausted falling asleep sleep late nights fatigue",
        ),
        (
            "arts",
            "art drawing painting music singing drama performance creative talent",
        ),
        (
            "sport",
            "sport PE football netball athletics team match competition medal",
        ),
        (
            "community",
            "community volunteering charity citizenship school council",
        ),
        (
            "speech and language",
            "speech language communication stammer articulation understanding instructions "
            "SALT speech therapist",
        ),
        (
            "improvement",
            "improvement turned around better behaviour progress report targets met",
        ),
        (
            "friendships",
            "friendship fall-out falling out peer relationships friends social group",
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


def conceptualise(
    vectors: Sequence[Sequence[float]],
    concepts: Sequence[Sequence[float]],
    threshold: float,
    most: int,
) -> list[tuple[list[float], list[int]]]:
    """For each vector: the concepts it is close enough to (cosine at least `threshold`, at
    most `most`, closest first), and the vector moved CONCEPT_WEIGHT of a unit towards each
    of them, unit length again, so that notes and queries of one concept meet in the vector
    space too, whatever their words. One matrix product for a whole batch."""
    if not len(vectors):
        return []
    v = np.asarray(vectors, dtype=np.float64)
    c = np.asarray(concepts, dtype=np.float64)
    v_unit = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-12)
    c_unit = c / np.maximum(np.linalg.norm(c, axis=1, keepdims=True), 1e-12)
    scores = v_unit @ c_unit.T
    order = np.argsort(-scores, axis=1, kind="stable")[:, :most]
    out = []
    for row, best in enumerate(order):
        found = [int(i) for i in best if scores[row, i] >= threshold]
        moved = v[row] + CONCEPT_WEIGHT * c[found].sum(axis=0) if found else v[row]
        moved = moved / (np.linalg.norm(moved) or 1.0)
        out.append((moved.tolist(), found))
    return out


def terms(indexes: Sequence[int]) -> str:
    """The full-text terms of some concepts: their names and words."""
    return " ".join(f"{TAXONOMY[i].name} {TAXONOMY[i].words}" for i in indexes)


def concept_texts() -> list[str]:
    return [f"{c.name}: {c.words}" for c in TAXONOMY]


def words(text: str) -> list[str]:
    return _WORD.findall(text.lower())
