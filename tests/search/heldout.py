"""A held-out evaluation set for semantic search over what staff write about students.

The search was tuned against ``tests/search/labelled.py``, so scores on that set flatter it. This
second set was written afterwards, by someone who had not seen the search engine (nor its code,
nor its tests), and it is meant to be run, not tuned against: it measures how the search does on
notes, students, vocabulary and queries it has never met.

It keeps labelled.py's format (the same ``Note`` and ``Query`` dataclasses and constants) and its
rules. The notes are the three kinds of free text the search covers: behaviour incident notes
(source "incident", with a kind and a category from the school's list), a student's support notes
(source "support_notes", at most one per student, as the field is) and intervention notes
(source "intervention_notes", category = the intervention type). Students and staff are fictional
and none share a name with labelled.py's; no note reuses or paraphrases one of labelled.py's, and
the writing mixes terse staff shorthand with full sentences and UK with US school vocabulary.

Each query is written the way a member of staff types into search, on themes or in wording that
labelled.py's queries do not use, and lists the keys of the notes that answer it (2 to 5), for
measuring recall@5.

Rules the set keeps:
- A query shares no content word with the text of any of its relevant notes: not the same word,
  not the same stem, not the same first five letters ("isolated"/"isolation", "spelling"/"spelt",
  "creative"/"create"). Stopwords don't count. So a hit can only come from meaning, not from
  matching words.
- No query shares a word with the category of any of its relevant notes either.
- Relevance is complete: every note that answers a query is listed for it, and a note may answer
  several (hand-me-down trousers because there is no money for shoes answers both "not in correct
  uniform" and "family struggling financially"; lying awake since a father's death answers both
  "tired all the time" and "bereavement").
- Distractors: many notes share surface words with a query they do not answer. For example "Grade
  6 violin" against "kids under pressure about grades", "refuses to put her uniform on" and "the PTA
  uniform swap shop" against "not in correct uniform", the smoke alarm set off by a toastie against
  "smoking or vaping", "eating crisps in the library" against "eating problems", "lying awake" and
  "truth and forgiveness" against "not telling the truth", "talked a room full of adults ... held
  her back" against "talks back to adults", "isolation for the rest of the day" against "lonely
  and isolated", "his fastest time yet" and "extra time" against "tired all the time", "shouted
  abuse" against "domestic abuse", "the spelling test" and "the other children" against "needs
  extra help with spelling" and "hurting other children", "a big jump" in a literacy intervention
  against "big improvement in behaviour", "a family trip to Bulgaria" against "family struggling
  financially".
"""

from __future__ import annotations

from tests.search.labelled import (
    INCIDENT,
    INTERVENTION,
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    SUPPORT,
    Note,
    Query,
)

AISHA = "Aisha Begum"
BEN = "Ben Thompson"
CALLUM = "Callum Fraser"
DAISY = "Daisy Whitfield"
FINN = "Finn Gallagher"
GRACE = "Grace Mensah"
HARVEY = "Harvey Clarke"
ISLA = "Isla Robertson"
KOFI = "Kofi Asante"
LEAH = "Leah Goldberg"
MARCUS = "Marcus Reid"
NADIA = "Nadia Petrova"
YUSUF = "Yusuf Demir"


NOTES: tuple[Note, ...] = (
    # --- Incidents: negative ---------------------------------------------------------------
    Note(
        "bit-arm",
        HARVEY,
        INCIDENT,
        NEGATIVE,
        "Physical aggression",
        "Bit a Year 2 girl on the arm at playtime when she wouldn't give him the ball. "
        "Teeth marks, ice pack; both parents informed.",
    ),
    Note(
        "headbutt",
        MARCUS,
        INCIDENT,
        NEGATIVE,
        "Physical aggression",
        "Headbutted a lad from 10Y behind the sports hall after a row about a girl. Split lip, "
        "first aid given. Two-day suspension.",
    ),
    Note(
        "tripped-stairs",
        BEN,
        INCIDENT,
        NEGATIVE,
        "Physical aggression",
        "Stuck his foot out and sent a Y7 flying on the science block stairs, then laughed. "
        "Grazed knees, ripped blazer. Isolation for the rest of the day.",
    ),
    Note(
        "not-my-mum",
        MARCUS,
        INCIDENT,
        NEGATIVE,
        "Disrespect to staff",
        "'You can't tell me what to do, you're not my mum' to Mrs Hale when asked to move seats, "
        "then argued with every instruction after that.",
    ),
    Note(
        "dinner-lady",
        CALLUM,
        INCIDENT,
        NEGATIVE,
        "Disrespect to staff",
        "Lippy with the lunchtime supervisor when asked to clear his tray - 'whatever, you're "
        "only a dinner lady'.",
    ),
    Note(
        "not-the-boss",
        HARVEY,
        INCIDENT,
        NEGATIVE,
        "Disrespect to staff",
        "Shouted 'you're not the boss of me!' at Miss Ward and blew a raspberry when asked to "
        "line up.",
    ),
    Note(
        "monkey-noises",
        MARCUS,
        INCIDENT,
        NEGATIVE,
        "Prejudice-related incident",
        "Made monkey noises when a Black Year 8 lad got the ball in the lunchtime match. Logged "
        "as a hate incident; carer coming in tomorrow.",
    ),
    Note(
        "two-dads",
        CALLUM,
        INCIDENT,
        NEGATIVE,
        "Prejudice-related incident",
        "Kept calling a boy in his PE group 'gay' as an insult and shouted abuse about his two "
        "dads across the changing room. Logged on the prejudice register.",
    ),
    Note(
        "fake-account",
        CALLUM,
        INCIDENT,
        NEGATIVE,
        "Cyberbullying",
        "Set up a fake Instagram account in a classmate's name and posted embarrassing memes of "
        "him from it. Account reported and taken down, parents in.",
    ),
    Note(
        "e-cig",
        CALLUM,
        INCIDENT,
        NEGATIVE,
        "Substances",
        "Disposable e-cig found on him in the boys' toilets at break. Says older cousin buys "
        "them. Confiscated, dad phoned.",
    ),
    Note(
        "lighter",
        MARCUS,
        INCIDENT,
        NEGATIVE,
        "Substances",
        "Reeked of cigs coming in from lunch + lighter in blazer pocket. Searched w/ HoY "
        "present, nothing else found.",
    ),
    Note(
        "copied-story",
        CALLUM,
        INCIDENT,
        NEGATIVE,
        "Dishonesty",
        "Handed in a 'creative writing' piece copied word for word from a website and swore "
        "blind he had written it himself.",
    ),
    Note(
        "blamed-alfie",
        HARVEY,
        INCIDENT,
        NEGATIVE,
        "Dishonesty",
        "Broke the pencil pot and blamed Alfie, even though three children saw him do it.",
    ),
    Note(
        "forged",
        NADIA,
        INCIDENT,
        NEGATIVE,
        "Dishonesty",
        "Forged her dad's signature in her planner to cover a detention she hadn't done.",
    ),
    Note(
        "trainers",
        CALLUM,
        INCIDENT,
        NEGATIVE,
        "Dress code",
        "Trainers again, no tie. Loan tie issued; 3rd planner note this half term.",
    ),
    Note(
        "skirt",
        LEAH,
        INCIDENT,
        NEGATIVE,
        "Dress code",
        "Skirt rolled way above the knee and a nose stud in. Sent to student services to sort "
        "it out before period 2.",
    ),
    Note(
        "crisps",
        KOFI,
        INCIDENT,
        NEGATIVE,
        "Defiance",
        "Eating crisps in the library after being asked twice to put them away, then left the "
        "wrappers on the shelf.",
    ),
    # --- Incidents: neutral (concerns and notes) -------------------------------------------
    Note(
        "refusing-car",
        AISHA,
        INCIDENT,
        NEUTRAL,
        "Attendance concern",
        "Mum rang at 8:40 - Aisha is refusing to get out of the car in the car park, sobbing "
        "and saying she feels sick. Fourth morning out of five.",
    ),
    Note(
        "barricades-bedroom",
        ISLA,
        INCIDENT,
        NEUTRAL,
        "Attendance concern",
        "Dad reports she barricades herself in her bedroom on weekday mornings and refuses to "
        "put her uniform on. Attendance down to 61%.",
    ),
    Note(
        "bulgaria",
        NADIA,
        INCIDENT,
        NEUTRAL,
        "Attendance concern",
        "Family trip to Bulgaria for a cousin's wedding in term time - 8 days unauthorised, "
        "penalty notice referred to the LA.",
    ),
    Note(
        "predicted-eight",
        DAISY,
        INCIDENT,
        NEUTRAL,
        "Wellbeing concern",
        "In tears after parents' evening because her predicted 8 in physics isn't a 9. Says "
        "she revises every evening and all weekend and is terrified of letting everyone down.",
    ),
    Note(
        "nails-raw",
        LEAH,
        INCIDENT,
        NEUTRAL,
        "Wellbeing concern",
        "Panicking about the Y11 mocks - chewing her nails raw, and asked to resit a test she "
        "scored 92% on because 'it's not enough'.",
    ),
    Note(
        "haters-group",
        ISLA,
        INCIDENT,
        NEUTRAL,
        "Cyberbullying",
        "Girls in her form set up a WhatsApp group called 'Isla haters' and have been sharing "
        "screenshots of her messages. Mum brought printouts in.",
    ),
    Note(
        "streak-blocked",
        GRACE,
        INCIDENT,
        NEUTRAL,
        "Cyberbullying",
        "Big fall-out with her usual group over Snapchat - they've blocked her and keep putting "
        "posts about her on their stories. Arrived at form in tears.",
    ),
    Note(
        "binning-lunch",
        DAISY,
        INCIDENT,
        NEUTRAL,
        "Wellbeing concern",
        "Her friends say she has been binning her lunch every day and only drinking water. "
        "Visibly thinner since Christmas; went dizzy on the track in PE.",
    ),
    Note(
        "nan-died",
        GRACE,
        INCIDENT,
        NEUTRAL,
        "Wellbeing concern",
        "Her nan passed away on Saturday - they were very close. In for period 1 but tearful, "
        "so she spent the morning in student services.",
    ),
    Note(
        "funeral",
        HARVEY,
        INCIDENT,
        NEUTRAL,
        "General note",
        "Off Thursday for his grandad's funeral. Mum asks us to go gently - he keeps asking "
        "where grandad has gone.",
    ),
    Note(
        "accent-mocked",
        NADIA,
        INCIDENT,
        NEUTRAL,
        "Wellbeing concern",
        "Upset at lunch: two Year 9 boys have been mocking her accent and telling her to 'go "
        "back to Russia'. She is Bulgarian. Passed to HoY.",
    ),
    Note(
        "paris-trip",
        BEN,
        INCIDENT,
        NEUTRAL,
        "General note",
        "Brought back the Paris trip slip saying he can't go. Mum told the office quietly they "
        "can't find the £380 this year since dad lost his job.",
    ),
    Note(
        "brothers-trousers",
        BEN,
        INCIDENT,
        NEUTRAL,
        "Dress code",
        "In his older brother's grey trousers and black trainers. Mum says his shoes split and "
        "there's no money for new ones until payday - not sanctioned, passed to HoY.",
    ),
    Note(
        "smoke-alarm",
        BEN,
        INCIDENT,
        NEUTRAL,
        "General note",
        "Burnt a cheese toastie in food tech and set off the smoke alarm - whole block out on "
        "the field for 25 minutes.",
    ),
    Note(
        "dozing-xbox",
        BEN,
        INCIDENT,
        NEUTRAL,
        "Wellbeing concern",
        "Head on the desk, dozing through period 5 again - admits he's gaming till 2 or 3 most "
        "nights.",
    ),
    Note(
        "nodded-off",
        HARVEY,
        INCIDENT,
        NEUTRAL,
        "Wellbeing concern",
        "Yawning from the moment he arrives and nodded off on the carpet after lunch. Mum says "
        "he isn't settling until gone 11 most nights.",
    ),
    Note(
        "lying-awake",
        KOFI,
        INCIDENT,
        NEUTRAL,
        "Wellbeing concern",
        "Yawning and glassy-eyed through every lesson this week. Mum says he has been lying "
        "awake most nights since the anniversary of his dad's death.",
    ),
    Note(
        "library-corner",
        ISLA,
        INCIDENT,
        NEUTRAL,
        "Wellbeing concern",
        "Spends every break and lunch on her own in the library corner; nobody in her form sits "
        "with her in lessons either.",
    ),
    Note(
        "no-one",
        NADIA,
        INCIDENT,
        NEUTRAL,
        "Wellbeing concern",
        "Since arriving in January she hasn't made a single friend. Wanders round the yard on "
        "her own at recess.",
    ),
    Note(
        "encompass",
        AISHA,
        INCIDENT,
        NEUTRAL,
        "Safeguarding concern",
        "Operation Encompass notification from the police at 7:50: officers called to the house "
        "overnight after mum's partner assaulted her. Aisha was at home. Very subdued in form; "
        "DSL informed.",
    ),
    Note(
        "disclosure",
        YUSUF,
        INCIDENT,
        NEUTRAL,
        "Safeguarding concern",
        "Told the TA that daddy hits mummy when he gets angry and that he hides under his bed. "
        "Recorded in his own words and passed to the DSL.",
    ),
    Note(
        "word-test",
        YUSUF,
        INCIDENT,
        NEUTRAL,
        "General note",
        "Scored 2/20 in the weekly word test again; writes 'becos' and 'wos' even when copying "
        "straight off the board.",
    ),
    Note(
        "nosebleed",
        YUSUF,
        INCIDENT,
        NEUTRAL,
        "First aid",
        "Sudden nosebleed during the spelling test - the other children moved to the carpet "
        "while the TA sorted him out.",
    ),
    # --- Incidents: positive ---------------------------------------------------------------
    Note(
        "site-team",
        BEN,
        INCIDENT,
        POSITIVE,
        "Community",
        "Gave up his Saturday to help the site team repaint the benches in the quad before the "
        "summer fair.",
    ),
    Note(
        "tin-collection",
        GRACE,
        INCIDENT,
        POSITIVE,
        "Community",
        "Ran a tin collection for the local food bank with her form - 340 tins and packets "
        "dropped off on Friday.",
    ),
    Note(
        "found-purse",
        LEAH,
        INCIDENT,
        POSITIVE,
        "Honesty",
        "Handed in a purse she found on the field with £40 still in it.",
    ),
    Note(
        "shopping-bags",
        KOFI,
        INCIDENT,
        POSITIVE,
        "Community",
        "Stopped to help an elderly lady with her shopping at the bus stop outside; a member of "
        "the public rang reception to say thank you.",
    ),
    Note(
        "violin",
        LEAH,
        INCIDENT,
        POSITIVE,
        "Arts",
        "Passed Grade 6 violin with distinction and led the second violins at the spring concert.",
    ),
    Note(
        "linocut",
        ISLA,
        INCIDENT,
        POSITIVE,
        "Arts",
        "Her linocut prints were picked for the county schools' exhibition at the central library.",
    ),
    Note(
        "poem",
        YUSUF,
        INCIDENT,
        POSITIVE,
        "Achievement",
        "Wrote a lovely poem about his grandma's village in Turkey and read it to the whole "
        "school in assembly.",
    ),
    Note(
        "drum-solo",
        MARCUS,
        INCIDENT,
        POSITIVE,
        "Arts",
        "Brought the house down with a drum solo at the Year 10 showcase - staff had no idea he "
        "could play.",
    ),
    Note(
        "county-800m",
        KOFI,
        INCIDENT,
        POSITIVE,
        "Achievement",
        "Won the county 800m final in 2:04 - his fastest time yet - and goes through to the "
        "regionals.",
    ),
    Note(
        "netball-cup",
        GRACE,
        INCIDENT,
        POSITIVE,
        "Achievement",
        "Captained the U15 netball team to the county cup and was named player of the tournament.",
    ),
    Note(
        "sprint",
        FINN,
        INCIDENT,
        POSITIVE,
        "Achievement",
        "Won the Y5 sprint and anchored the winning relay team on Field Day.",
    ),
    Note(
        "off-report",
        KOFI,
        INCIDENT,
        POSITIVE,
        "Progress",
        "Off report after four weeks of 5s in every lesson, and not one sanction since October "
        "half term. Mum was over the moon.",
    ),
    Note(
        "on-green",
        HARVEY,
        INCIDENT,
        POSITIVE,
        "Progress",
        "Stayed on green all week for the first time this year! Took his certificate home to "
        "show mum.",
    ),
    Note(
        "governors",
        NADIA,
        INCIDENT,
        POSITIVE,
        "Achievement",
        "Talked a room full of adults through her geography project at the governors' meeting - "
        "the stammer hardly held her back.",
    ),
    Note(
        "re-debate",
        KOFI,
        INCIDENT,
        POSITIVE,
        "Contribution in class",
        "Asked brilliant questions in the RE debate on truth and forgiveness - really made the "
        "class think.",
    ),
    # --- Support notes (at most one per student, as the field is) --------------------------
    Note(
        "aisha-support",
        AISHA,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Anxiety-based non-attendance since Year 7, open to CAMHS. May arrive at 8:30 through "
        "student services before the crowds, and has a pass to leave a lesson for the quiet "
        "room.",
    ),
    Note(
        "ben-support",
        BEN,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "FSM and pupil premium. Dad was made redundant in October; school has paid for his PE "
        "kit and the Year 8 residential. Offer revision guides and trip places discreetly.",
    ),
    Note(
        "daisy-support",
        DAISY,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Perfectionist: will tear out a whole page over one crossing-out and redoes homework that "
        "was already fine. Praise effort rather than results, never read her marks out in front "
        "of the class; 10% extra time in exams.",
    ),
    Note(
        "finn-support",
        FINN,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "DLD, diagnosed by the NHS SALT in Year 1: struggles to find the right word and loses "
        "track of long instructions. Keep instructions short, ask him to say the task back to "
        "you, pre-teach topic vocabulary with pictures.",
    ),
    Note(
        "grace-support",
        GRACE,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Epilepsy. Seizure plan and emergency medication in the medical room; no strobe or "
        "flashing lights in drama, and she must never swim unsupervised.",
    ),
    Note(
        "harvey-support",
        HARVEY,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "ADHD, diagnosed in Year 2; medication given at home before school. Seat him near the "
        "front away from the window, use a now/next board and give him jobs that let him move.",
    ),
    Note(
        "isla-support",
        ISLA,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "ARFID (avoidant/restrictive food intake). Will only accept plain pasta, crackers and "
        "yoghurt; allowed a packed lunch in the quiet room and must not be pushed to try new "
        "foods.",
    ),
    Note(
        "kofi-support",
        KOFI,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Dad died suddenly in May 2023. The anniversary and Father's Day are hard; he can go to "
        "the student hub without having to explain why.",
    ),
    Note(
        "marcus-support",
        MARCUS,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Looked-after child, in a foster placement since 2022. Designated teacher is Ms Ford and "
        "his PEP is reviewed each term. Contact with birth mum on Wednesdays can unsettle him "
        "on Thursdays.",
    ),
    Note(
        "nadia-support",
        NADIA,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Stammer, worse when she is anxious. Don't finish her words for her or ask her to read "
        "aloud cold; warn her before asking her a question in front of the class.",
    ),
    Note(
        "yusuf-support",
        YUSUF,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Dyslexic profile (screened in Year 3). Word mat of tricky words on his table; accept "
        "phonetic attempts in written work and mark the ideas, not accuracy.",
    ),
    # --- Intervention notes ----------------------------------------------------------------
    Note(
        "ebsa-plan",
        AISHA,
        INTERVENTION,
        NEUTRAL,
        "Attendance plan",
        "EBSA plan agreed with mum and the CAMHS worker: phased return starting with two "
        "mornings a week in the inclusion base, building up to full days by Easter.",
    ),
    Note(
        "family-worker",
        AISHA,
        INTERVENTION,
        NEUTRAL,
        "Early Help",
        "Family support worker visiting weekly since mum's partner was arrested for assaulting "
        "her. Aisha sees the counsellor on Thursdays and knows she can go to the DSL any day.",
    ),
    Note(
        "diversity-course",
        CALLUM,
        INTERVENTION,
        NEUTRAL,
        "Pastoral programme",
        "Four-week programme on LGBT+ inclusion and respect with the pastoral lead after the "
        "changing-room incident. Wrote a letter of apology to the boy and his parents.",
    ),
    Note(
        "nicotine",
        CALLUM,
        INTERVENTION,
        NEUTRAL,
        "Health education",
        "Two sessions with the school nurse on nicotine addiction. He has agreed to hand in any "
        "devices at the gate, and dad is looking into patches.",
    ),
    Note(
        "eating-referral",
        DAISY,
        INTERVENTION,
        NEUTRAL,
        "Health referral",
        "Referred by the school nurse to the community anorexia and bulimia service. Weekly "
        "weigh-ins with the nurse; mum fully involved and PE staff briefed.",
    ),
    Note(
        "salt-visits",
        FINN,
        INTERVENTION,
        NEUTRAL,
        "SALT programme",
        "Fortnightly SALT visits: working on past-tense endings and retelling a story in order "
        "with picture cards. TA follows up with Colourful Semantics three mornings a week.",
    ),
    Note(
        "nessy",
        HARVEY,
        INTERVENTION,
        NEUTRAL,
        "Literacy intervention",
        "Nessy on the laptop three sessions a week plus Toe by Toe at lunch. Now writes "
        "'because', 'said' and 'they' correctly without a word mat.",
    ),
    Note(
        "mediation",
        ISLA,
        INTERVENTION,
        NEUTRAL,
        "Mediation",
        "Mediated meeting with the three girls from the WhatsApp group; all agreed to leave it "
        "and to come to a member of staff if there's a problem.",
    ),
    Note(
        "peer-mentors",
        ISLA,
        INTERVENTION,
        NEUTRAL,
        "Mentoring",
        "Paired with two Year 10 peer mentors and given a lunch pass to Games Club so she has "
        "somewhere to go and people to sit with.",
    ),
    Note(
        "grief-work",
        KOFI,
        INTERVENTION,
        NEUTRAL,
        "Counselling",
        "Fortnightly sessions with the school counsellor using the Winston's Wish resources; he "
        "has made a memory box about his dad.",
    ),
    Note(
        "perfectionism",
        LEAH,
        INTERVENTION,
        NEUTRAL,
        "Counselling",
        "Six sessions with the guidance counselor on perfectionism and fear of failure - "
        "working on 'good enough' and a realistic revision plan before the summer exams.",
    ),
    Note(
        "restorative",
        MARCUS,
        INTERVENTION,
        NEUTRAL,
        "Restorative practice",
        "Restorative conference with the Year 10 he headbutted and both sets of parents/carers. "
        "Apologised and agreed to keep his hands to himself.",
    ),
    Note(
        "boxing",
        MARCUS,
        INTERVENTION,
        NEUTRAL,
        "Mentoring",
        "Boxing mentor programme with a coach from the local club on Wednesday afternoons. Four "
        "fixed-term exclusions last year, none so far this year, and calmer in lessons.",
    ),
    Note(
        "precision",
        YUSUF,
        INTERVENTION,
        NEUTRAL,
        "Literacy intervention",
        "Precision teaching with the TA, ten minutes every morning: 14 of the 20 Y3/4 statutory "
        "words now secure - a big jump since October.",
    ),
    Note(
        "hardship-fund",
        YUSUF,
        INTERVENTION,
        NEUTRAL,
        "Hardship support",
        "Hardship fund application approved after dad's hours were cut: winter coat and shoes "
        "from the PTA uniform swap shop, swimming lessons paid for, and a place on the free "
        "holiday activities scheme.",
    ),
)


QUERIES: tuple[Query, ...] = (
    Query(
        "hurting other children",
        ("bit-arm", "headbutt", "tripped-stairs", "restorative"),
    ),
    Query(
        "won't come to school",
        ("refusing-car", "barricades-bedroom", "aisha-support", "ebsa-plan"),
    ),
    Query(
        "kids under pressure about grades",
        ("predicted-eight", "nails-raw", "daisy-support", "perfectionism"),
    ),
    Query(
        "trouble with friends online",
        ("haters-group", "streak-blocked", "fake-account", "mediation"),
    ),
    Query(
        "good citizenship",
        ("site-team", "tin-collection", "found-purse", "shopping-bags"),
    ),
    Query(
        "needs extra help with spelling",
        ("word-test", "yusuf-support", "precision", "nessy"),
    ),
    Query("eating problems", ("binning-lunch", "isla-support", "eating-referral")),
    Query(
        "bereavement",
        ("nan-died", "funeral", "lying-awake", "kofi-support", "grief-work"),
    ),
    Query("talks back to adults", ("not-my-mum", "dinner-lady", "not-the-boss")),
    Query(
        "racist or homophobic remarks",
        ("monkey-noises", "two-dads", "accent-mocked", "diversity-course"),
    ),
    Query("smoking or vaping", ("e-cig", "lighter", "nicotine")),
    Query(
        "family struggling financially",
        ("paris-trip", "brothers-trousers", "ben-support", "hardship-fund"),
    ),
    Query("tired all the time", ("dozing-xbox", "nodded-off", "lying-awake")),
    Query("creative talent", ("violin", "linocut", "poem", "drum-solo")),
    Query("sporting success", ("county-800m", "netball-cup", "sprint")),
    Query("domestic abuse", ("encompass", "disclosure", "family-worker")),
    Query("not telling the truth", ("copied-story", "blamed-alfie", "forged")),
    Query("lonely and isolated", ("library-corner", "no-one", "peer-mentors")),
    Query("big improvement in behaviour", ("off-report", "on-green", "boxing")),
    Query("not in correct uniform", ("trainers", "skirt", "brothers-trousers")),
    Query(
        "speech and language difficulties",
        ("nadia-support", "finn-support", "governors", "salt-visits"),
    ),
)
