"""A labelled evaluation set for semantic search over what staff write about students.

The notes are the three kinds of free text the search covers: behaviour incident notes
(source "incident", with the kind and the category a teacher picked from the school's list),
a student's support notes (source "support_notes", one per student, as the field is) and
intervention notes (source "intervention_notes", category = the intervention type). Students
and staff are fictional.

Each query is written the way a member of staff types into search, and lists the keys of the
notes that answer it (2 to 5). It is meant for measuring recall@5 of the search engine.

Rules the set keeps:
- A query shares no content word with the text of any of its relevant notes: not the same word,
  not the same stem ("violent"/"violence", "read"/"reading", "lateness"/"late"). Stopwords don't
  count. So a hit can only come from meaning, not from matching words.
- The category may share a word with the query (staff know the category list), but for most
  queries it does not either: only "persistent lateness", "using phone in class", "damaging
  school property", "needs help with reading", "struggling with maths", "sensory overload" and
  "leadership qualities" share a word with a relevant note's category.
- Relevance is complete: every note that answers a query is listed for it, and a note may answer
  several queries (an online bullying incident answers both "picking on other kids" and
  "problems on social media").
- Distractors: some notes share surface words with a query they do not answer, so that keyword
  matching alone is imperfect. For example "Mock exam in chemistry: grade 8" against "worried
  about exams", "skips breakfast" against "skipping school", "parents phoned" against "using
  phone in class", "refused to give up" against "refuses to follow instructions", "Stole the
  show" against "stealing", the social skills group against "problems on social media".
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Note:
    key: str  # unique, short
    student: str  # fictional student, first and last name
    source: str  # "incident" | "support_notes" | "intervention_notes"
    kind: str  # incidents: "NEGATIVE" | "POSITIVE" | "NEUTRAL"; otherwise "NEUTRAL"
    category: str  # incidents: the school's category; else the intervention type or "Support notes"
    text: str  # what the teacher or SENCO wrote


@dataclass(frozen=True)
class Query:
    text: str  # what a member of staff types into search
    relevant: tuple[str, ...]  # keys of the notes that answer it


INCIDENT = "incident"
SUPPORT = "support_notes"
INTERVENTION = "intervention_notes"

NEGATIVE = "NEGATIVE"
POSITIVE = "POSITIVE"
NEUTRAL = "NEUTRAL"

AMARA = "Amara Okonkwo"
CHLOE = "Chloe Davies"
ETHAN = "Ethan Brooks"
FREYA = "Freya Lindqvist"
JAYDEN = "Jayden Williams"
LIAM = "Liam Hughes"
MAYA = "Maya Chen"
MOHAMMED = "Mohammed Rahman"
NOAH = "Noah Adebayo"
OLIVER = "Oliver Kowalczyk"
PRIYA = "Priya Sharma"
SOFIA = "Sofia Marquez"
TYLER = "Tyler O'Brien"
ZAINAB = "Zainab Hussain"


NOTES: tuple[Note, ...] = (
    # --- Incidents: negative ---------------------------------------------------------------
    Note(
        "chair-throw",
        TYLER,
        INCIDENT,
        NEGATIVE,
        "Physical aggression",
        "Threw a chair at a classmate during maths after losing a game of Countdown. "
        "Room evacuated while he calmed.",
    ),
    Note(
        "punch-stairs",
        LIAM,
        INCIDENT,
        NEGATIVE,
        "Physical aggression",
        "Punched a Year 8 boy in the face on the stairs at changeover. Nosebleed, first aid "
        "given, both sets of parents phoned.",
    ),
    Note(
        "kicked-ta",
        JAYDEN,
        INCIDENT,
        NEGATIVE,
        "Physical aggression",
        "Kicked Mrs Patel (TA) twice in the shin when she tried to take the scissors off him. "
        "She wasn't badly hurt but has been offered time out.",
    ),
    Note(
        "field-fight",
        OLIVER,
        INCIDENT,
        NEGATIVE,
        "Physical aggression",
        "Fight on the field at lunch with a boy from 9R - both rolling on the ground, took two "
        "staff to separate them. Isolation tomorrow.",
    ),
    Note(
        "swore-at-staff",
        TYLER,
        INCIDENT,
        NEGATIVE,
        "Verbal abuse",
        "Told Mr Evans to f*** off in the corridor at changeover, in front of a group of Year 7s.",
    ),
    Note(
        "cover-insult",
        CHLOE,
        INCIDENT,
        NEGATIVE,
        "Verbal abuse",
        "Called the cover supervisor 'a waste of space' and mimicked her voice every time she "
        "tried talking to the group.",
    ),
    Note(
        "answering-back",
        FREYA,
        INCIDENT,
        NEGATIVE,
        "Disrespect to staff",
        "Sarcastic comments every time Ms Obi spoke in geography, eye-rolling and muttering "
        "under her breath. Kept back at break.",
    ),
    Note(
        "name-calling",
        LIAM,
        INCIDENT,
        NEGATIVE,
        "Bullying",
        "Has been calling a Year 7 'fatty' in the lunch queue all week. The boy is now too upset "
        "to go into the canteen.",
    ),
    Note(
        "hijab-comments",
        FREYA,
        INCIDENT,
        NEGATIVE,
        "Bullying",
        "Rude comments about Zainab's hijab with two friends at break, laughing when she got "
        "upset. Parents contacted.",
    ),
    Note(
        "snapchat-photo",
        CHLOE,
        INCIDENT,
        NEGATIVE,
        "Online safety",
        "Posted an edited photo of a girl in her form on Snapchat with nasty captions. "
        "Screenshots passed to the DSL.",
    ),
    Note(
        "left-out",
        MAYA,
        INCIDENT,
        NEGATIVE,
        "Unkind behaviour",
        "Deliberately leaving Priya out of every group task and whispering about her with the "
        "others on the table.",
    ),
    Note(
        "fart-noises",
        JAYDEN,
        INCIDENT,
        NEGATIVE,
        "Disruption",
        "Making fart noises during the starter and setting half the room off giggling. "
        "Moved to the front.",
    ),
    Note(
        "paper-balls",
        LIAM,
        INCIDENT,
        NEGATIVE,
        "Disruption",
        "Throwing paper balls across the room while I was explaining the task. Stayed ten "
        "minutes of break to pick them all up.",
    ),
    Note(
        "chatting-reading",
        CHLOE,
        INCIDENT,
        NEGATIVE,
        "Off task",
        "Chatted through the whole reading task in English and had nothing in her book "
        "after 40 minutes.",
    ),
    Note(
        "wandering",
        JAYDEN,
        INCIDENT,
        NEGATIVE,
        "Off task",
        "Out of his seat eight times in twenty minutes, wandering over to other tables. "
        "Tried the wobble cushion, which helped a bit.",
    ),
    Note(
        "wont-move",
        FREYA,
        INCIDENT,
        NEGATIVE,
        "Defiance",
        "Would not move seats when asked three times; sat with her arms folded until the bell.",
    ),
    Note(
        "hood-up",
        OLIVER,
        INCIDENT,
        NEGATIVE,
        "Defiance",
        "Kept his hood up and cap on after repeated requests to take them off. "
        "Sent to the reflection room.",
    ),
    Note(
        "walked-out",
        AMARA,
        INCIDENT,
        NEGATIVE,
        "Defiance",
        "Got up and left the room without permission when told to start the task again, "
        "and ignored me calling her back.",
    ),
    Note(
        "town-centre",
        LIAM,
        INCIDENT,
        NEGATIVE,
        "Truancy",
        "Seen at the retail park at 11am by a member of staff driving to a course. "
        "Registered absent; mum had no idea.",
    ),
    Note(
        "left-site",
        AMARA,
        INCIDENT,
        NEGATIVE,
        "Truancy",
        "Signed in at registration, then went over the back fence before period 2 and "
        "did not come back.",
    ),
    Note(
        "toilets",
        CHLOE,
        INCIDENT,
        NEGATIVE,
        "Truancy",
        "Found in the girls' toilets during period 3 with two friends - hadn't been to science "
        "at all. Third time this half term.",
    ),
    Note(
        "bus",
        ZAINAB,
        INCIDENT,
        NEGATIVE,
        "Lateness",
        "In at 9:20 again, third time this week. Says the bus was full and went past her stop.",
    ),
    Note(
        "tardy",
        JAYDEN,
        INCIDENT,
        NEGATIVE,
        "Lateness",
        "Tardy to first period again - strolled in after the bell with a breakfast from the "
        "shop and no note.",
    ),
    Note(
        "homework-late",
        OLIVER,
        INCIDENT,
        NEGATIVE,
        "Homework",
        "Homework handed in late for the third week running; says he forgot.",
    ),
    Note(
        "desk-scroll",
        LIAM,
        INCIDENT,
        NEGATIVE,
        "Mobile phone",
        "Scrolling on his handset under the desk during the test. Confiscated and handed in "
        "to the office.",
    ),
    Note(
        "mobile-quiz",
        MAYA,
        INCIDENT,
        NEGATIVE,
        "Mobile phone",
        "Mobile out on the desk during the Spanish quiz; confiscated, collected by mum at the "
        "end of the day.",
    ),
    Note(
        "texting",
        FREYA,
        INCIDENT,
        NEGATIVE,
        "Mobile phone",
        "Texting under the table for most of the science practical. Handed it over without fuss.",
    ),
    Note(
        "graffiti",
        TYLER,
        INCIDENT,
        NEGATIVE,
        "Damage to property",
        "Wrote his tag in permanent marker all over the back of a toilet cubicle door.",
    ),
    Note(
        "chromebook-keys",
        OLIVER,
        INCIDENT,
        NEGATIVE,
        "Damage to property",
        "Pulled the keys off a Chromebook in ICT. Letter home about the cost of the repair.",
    ),
    Note(
        "carved-bench",
        LIAM,
        INCIDENT,
        NEGATIVE,
        "Damage to property",
        "Carved his initials into the new science bench with a compass point.",
    ),
    Note(
        "changing-room-cash",
        MAYA,
        INCIDENT,
        NEGATIVE,
        "Theft",
        "Took £10 from a girl's bag in the changing room; admitted it when bags were checked. "
        "Money returned.",
    ),
    Note(
        "tuck-shop",
        NOAH,
        INCIDENT,
        NEGATIVE,
        "Theft",
        "Caught pocketing sweets from the tuck shop without paying.",
    ),
    Note(
        "pokemon-cards",
        FREYA,
        INCIDENT,
        NEGATIVE,
        "Theft",
        "A calculator and some Pokémon cards that went missing from Jayden's tray turned up "
        "in her bag.",
    ),
    # --- Incidents: neutral (concerns and notes) -------------------------------------------
    Note(
        "mock-tears",
        SOFIA,
        INCIDENT,
        NEUTRAL,
        "Wellbeing concern",
        "Tearful and shaking outside the hall before the mock paper. Sat it in the small room "
        "with a reader and managed to finish.",
    ),
    Note(
        "sats-tummy",
        NOAH,
        INCIDENT,
        NEUTRAL,
        "Wellbeing concern",
        "Tummy aches every morning this week. Mum says he isn't sleeping because he's scared "
        "of failing the SATs.",
    ),
    Note(
        "forearm-cuts",
        MAYA,
        INCIDENT,
        NEUTRAL,
        "Safeguarding concern",
        "Noticed fresh cuts on her forearm when she pushed her sleeves up in art. Didn't "
        "question her; passed straight to the DSL as per procedure.",
    ),
    Note(
        "long-sleeves",
        PRIYA,
        INCIDENT,
        NEUTRAL,
        "Safeguarding concern",
        "PE teacher noticed she keeps long sleeves on even in the heat, and she flinched when "
        "asked to roll them up. Logged with the DSL.",
    ),
    Note(
        "gaming-contact",
        ZAINAB,
        INCIDENT,
        NEUTRAL,
        "Safeguarding concern",
        "Told her form tutor that a man she met on a gaming app has been messaging her and "
        "asking for pictures. Passed to the DSL the same day.",
    ),
    Note(
        "group-chat",
        PRIYA,
        INCIDENT,
        NEUTRAL,
        "Online safety",
        "Upset in form - she was removed from the year group chat overnight and people have "
        "been posting about her. Three sets of parents contacted.",
    ),
    Note(
        "quiet-alone",
        ZAINAB,
        INCIDENT,
        NEUTRAL,
        "Wellbeing concern",
        "Very quiet all week, sitting on her own at lunch with her hood up. Said things at home "
        "are 'a lot right now'.",
    ),
    Note(
        "flat-tired",
        AMARA,
        INCIDENT,
        NEUTRAL,
        "General note",
        "Seemed flat and exhausted today, head on the desk through period 4. Checked in "
        "after; says she's fine, just not sleeping.",
    ),
    Note(
        "fire-alarm",
        ETHAN,
        INCIDENT,
        NEUTRAL,
        "Wellbeing concern",
        "Covered his ears and crawled under a table when the fire alarm went off. Calmed down "
        "in the quiet room after about 20 minutes.",
    ),
    Note(
        "toast",
        TYLER,
        INCIDENT,
        NEUTRAL,
        "Wellbeing concern",
        "Told me he hadn't eaten anything since lunch yesterday. Gave him toast from the "
        "staffroom and logged it.",
    ),
    Note(
        "cross-country",
        PRIYA,
        INCIDENT,
        NEUTRAL,
        "First aid",
        "Wheezy and short of breath after cross-country; used her inhaler and sat out the rest. "
        "Mum informed.",
    ),
    Note(
        "fractions-lost",
        ETHAN,
        INCIDENT,
        NEUTRAL,
        "General note",
        "Completely lost on fractions today - couldn't start a single question without 1:1 "
        "and got very frustrated.",
    ),
    # --- Incidents: positive ---------------------------------------------------------------
    Note(
        "crying-year7",
        PRIYA,
        INCIDENT,
        POSITIVE,
        "Kindness",
        "Found a Year 7 crying by the gates at home time, walked him to reception and waited "
        "with him until his mum arrived.",
    ),
    Note(
        "missed-homework",
        AMARA,
        INCIDENT,
        POSITIVE,
        "Kindness",
        "Gave up her lunchtime to go through the science homework Dev missed while he was off ill.",
    ),
    Note(
        "new-boy",
        OLIVER,
        INCIDENT,
        POSITIVE,
        "Kindness",
        "Spent break teaching the new boy in 8K the rules of football and introduced him to "
        "his mates.",
    ),
    Note(
        "mock-grade",
        SOFIA,
        INCIDENT,
        POSITIVE,
        "Achievement",
        "Mock exam in chemistry: grade 8, the highest in the set. Delighted for her.",
    ),
    Note(
        "spelling-bee",
        ZAINAB,
        INCIDENT,
        POSITIVE,
        "Achievement",
        "Won the inter-form spelling bee and goes through to the borough final in March.",
    ),
    Note(
        "stem-fair",
        MAYA,
        INCIDENT,
        POSITIVE,
        "Achievement",
        "Her bridge design took first prize at the county STEM fair; the judges singled out "
        "her testing write-up.",
    ),
    Note(
        "redrafted",
        CHLOE,
        INCIDENT,
        POSITIVE,
        "Effort",
        "Redrafted her persuasive essay three times over the weekend without being asked. "
        "Huge improvement in paragraphing.",
    ),
    Note(
        "kept-going",
        NOAH,
        INCIDENT,
        POSITIVE,
        "Effort",
        "Kept going with a tricky problem in his project for the whole hour and refused to "
        "give up, even when his group moved on.",
    ),
    Note(
        "extra-practice",
        MOHAMMED,
        INCIDENT,
        POSITIVE,
        "Effort",
        "Hands in extra practice every week on top of what's set, and never misses a deadline.",
    ),
    Note(
        "litter-rota",
        ETHAN,
        INCIDENT,
        POSITIVE,
        "Leadership",
        "Organised a litter-pick rota for the form and made sure everyone got a turn, "
        "including the quieter ones.",
    ),
    Note(
        "netball-captain",
        FREYA,
        INCIDENT,
        POSITIVE,
        "Leadership",
        "As netball captain, kept the team calm after a bad umpiring call and was first to "
        "shake hands at the end. Excellent captaincy.",
    ),
    Note(
        "assembly",
        AMARA,
        INCIDENT,
        POSITIVE,
        "Leadership",
        "Organised and hosted the Year 9 anti-bullying assembly with two friends - kept 200 "
        "kids hanging on every word. Stole the show.",
    ),
    Note(
        "council",
        JAYDEN,
        INCIDENT,
        POSITIVE,
        "Leadership",
        "Elected to the school council and collected ideas from every tutor group about the "
        "lunch queue.",
    ),
    # --- Support notes (one per student, as the field is) ----------------------------------
    Note(
        "timed-assessments",
        SOFIA,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Gets very anxious in timed assessments. 25% extra time, rest breaks and a seat near "
        "the door; let her know the format beforehand.",
    ),
    Note(
        "dyslexia",
        NOAH,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Dyslexia diagnosed in Year 4. Cream paper, 14pt font and a coloured overlay; don't put "
        "him on the spot to go through a text aloud.",
    ),
    Note(
        "number-work",
        ZAINAB,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Finds number work very hard - possible dyscalculia. Multiplication square and "
        "calculator allowed in all assessments.",
    ),
    Note(
        "ear-defenders",
        ETHAN,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Autistic. Canteen and assemblies are too loud for him: ear defenders in his bag, and "
        "he can leave five minutes early to miss the crowds.",
    ),
    Note(
        "adhd",
        JAYDEN,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "ADHD. Movement break card on his desk; give instructions one at a time and break "
        "longer tasks into short chunks.",
    ),
    Note(
        "fidget-tool",
        TYLER,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Self-regulates better with a fidget tool. Put him at the end of a row so he can stand "
        "up to work without bothering anyone.",
    ),
    Note(
        "asthma",
        PRIYA,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Asthmatic. Blue inhaler kept in the PE office and must go on every trip off site.",
    ),
    Note(
        "diabetes",
        LIAM,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Type 1 diabetic. Checks blood sugar before lunch and PE, and may eat in class if his "
        "levels drop. Hypo kit kept in the office.",
    ),
    Note(
        "arabic-speaker",
        MOHAMMED,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Arrived from Syria in September with very little spoken vocabulary yet. Uses Google "
        "Translate and picture cards; pair him with Omar, who speaks Arabic.",
    ),
    Note(
        "polish-speaker",
        OLIVER,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Polish speaker, three months in the country. Understands far more than he can say - "
        "give him thinking time and sentence starters.",
    ),
    Note(
        "temporary-accommodation",
        CHLOE,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Pupil premium. Family in temporary accommodation since March and she often skips "
        "breakfast; uniform grant and lunch top-up in place.",
    ),
    Note(
        "young-carer",
        AMARA,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Young carer - helps look after mum, who has MS. Be flexible with homework deadlines "
        "and have a quiet word rather than a public sanction.",
    ),
    # --- Intervention notes ----------------------------------------------------------------
    Note(
        "triggers",
        TYLER,
        INTERVENTION,
        NEUTRAL,
        "Anger management",
        "Six weekly sessions with the learning mentor on spotting his triggers and walking away "
        "before he lashes out. Noticeably fewer blow-ups since half term.",
    ),
    Note(
        "test-nerves",
        SOFIA,
        INTERVENTION,
        NEUTRAL,
        "Counselling",
        "Four sessions with the school counsellor on test nerves: breathing exercises and a "
        "plan for the morning of each paper. She feels more in control.",
    ),
    Note(
        "attendance-contract",
        LIAM,
        INTERVENTION,
        NEUTRAL,
        "Attendance plan",
        "Attendance contract agreed with dad after several unexplained days off. Office rings "
        "home by 9:15 if he isn't in; weekly review with the EWO.",
    ),
    Note(
        "meet-and-greet",
        ZAINAB,
        INTERVENTION,
        NEUTRAL,
        "Attendance plan",
        "Morning meet-and-greet at the gate with her form tutor to work on punctuality. On time "
        "four days out of five this fortnight.",
    ),
    Note(
        "check-in-check-out",
        JAYDEN,
        INTERVENTION,
        NEUTRAL,
        "Check-in/check-out",
        "Check-in/check-out with Mr Adeyemi at the start and end of each day; points card "
        "reviewed with mum on Fridays.",
    ),
    Note(
        "opening-up",
        ETHAN,
        INTERVENTION,
        NEUTRAL,
        "Mentoring",
        "Mentor reports he is opening up a bit more in their weekly meetings, but still shuts "
        "himself away at break and avoids his old friends.",
    ),
    Note(
        "lego-club",
        PRIYA,
        INTERVENTION,
        NEUTRAL,
        "Nurture group",
        "Invited to the Tuesday Lego club at lunch so she has somewhere calm to go after a "
        "tearful, isolated autumn term.",
    ),
    Note(
        "safety-plan",
        MAYA,
        INTERVENTION,
        NEUTRAL,
        "Counselling",
        "Safety plan in place since the scratches on her arms were seen in October: counsellor "
        "weekly, check-in with the DSL each Monday, mum kept informed.",
    ),
    Note(
        "phonics",
        NOAH,
        INTERVENTION,
        NEUTRAL,
        "Reading intervention",
        "Daily 15-minute phonics catch-up with Mrs Lowe. Now blending CVC words confidently "
        "and starting on digraphs.",
    ),
    Note(
        "fresh-start",
        FREYA,
        INTERVENTION,
        NEUTRAL,
        "Literacy intervention",
        "Fresh Start group three times a week. NGRT standardised score 74 in September; "
        "decoding unfamiliar words is the main gap.",
    ),
    Note(
        "numeracy-group",
        AMARA,
        INTERVENTION,
        NEUTRAL,
        "Maths catch-up",
        "Small-group numeracy with the TA three mornings a week: times tables and place value. "
        "Much more confident with column addition now.",
    ),
    Note(
        "eal-group",
        MOHAMMED,
        INTERVENTION,
        NEUTRAL,
        "EAL support",
        "EAL withdrawal group twice a week; key vocabulary for science and humanities topics "
        "taught in advance.",
    ),
    Note(
        "movement-circuit",
        ETHAN,
        INTERVENTION,
        NEUTRAL,
        "Sensory circuit",
        "Starts each day with a ten-minute circuit before registration (trampette, wall "
        "push-ups, balancing) so he arrives regulated and ready for the noise of the day.",
    ),
    Note(
        "breakfast-club",
        CHLOE,
        INTERVENTION,
        NEUTRAL,
        "Breakfast club",
        "Free breakfast club place arranged with mum; family referred to the food bank through "
        "Early Help.",
    ),
    Note(
        "social-skills",
        NOAH,
        INTERVENTION,
        NEUTRAL,
        "Social skills group",
        "Weekly social skills group: turn-taking, joining in with games, reading faces and "
        "tone of voice.",
    ),
)


QUERIES: tuple[Query, ...] = (
    Query(
        "violent behaviour",
        ("chair-throw", "punch-stairs", "kicked-ta", "field-fight", "triggers"),
    ),
    Query(
        "worried about exams",
        ("mock-tears", "sats-tummy", "timed-assessments", "test-nerves"),
    ),
    Query(
        "skipping school",
        ("town-centre", "left-site", "toilets", "attendance-contract"),
    ),
    Query("persistent lateness", ("bus", "tardy", "meet-and-greet")),
    Query("rude to teachers", ("swore-at-staff", "cover-insult", "answering-back")),
    Query(
        "picking on other kids",
        ("name-calling", "hijab-comments", "snapchat-photo", "left-out", "group-chat"),
    ),
    Query(
        "messing about in lessons",
        ("fart-noises", "paper-balls", "chatting-reading", "wandering"),
    ),
    Query("refuses to follow instructions", ("wont-move", "hood-up", "walked-out")),
    Query("using phone in class", ("desk-scroll", "mobile-quiz", "texting")),
    Query("damaging school property", ("graffiti", "chromebook-keys", "carved-bench")),
    Query("stealing", ("changing-room-cash", "tuck-shop", "pokemon-cards")),
    Query("problems on social media", ("snapchat-photo", "gaming-contact", "group-chat")),
    Query("signs of self-harm", ("forearm-cuts", "long-sleeves", "safety-plan")),
    Query(
        "feeling down and withdrawn",
        ("quiet-alone", "flat-tired", "opening-up", "lego-club"),
    ),
    Query("helped another pupil", ("crying-year7", "missed-homework", "new-boy")),
    Query("needs help with reading", ("phonics", "dyslexia", "fresh-start")),
    Query("struggling with maths", ("numeracy-group", "number-work", "fractions-lost")),
    Query("sensory overload", ("ear-defenders", "fire-alarm", "movement-circuit")),
    Query("can't sit still", ("adhd", "fidget-tool", "wandering")),
    Query("comes in hungry", ("toast", "temporary-accommodation", "breakfast-club")),
    Query("medical conditions", ("asthma", "diabetes", "cross-country")),
    Query("limited English", ("arabic-speaker", "polish-speaker", "eal-group")),
    Query("excellent results", ("mock-grade", "spelling-bee", "stem-fair")),
    Query("working really hard", ("redrafted", "kept-going", "extra-practice")),
    Query(
        "leadership qualities",
        ("litter-rota", "netball-captain", "assembly", "council"),
    ),
    Query(
        "someone to talk to",
        ("test-nerves", "check-in-check-out", "opening-up", "safety-plan", "triggers"),
    ),
)
