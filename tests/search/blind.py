"""A third labelled evaluation set for semantic search, written blind.

This set was written after the search engine had been tuned, by someone who had not seen the
engine, its configuration or the queries of the other evaluation sets, so that it measures the
search honestly rather than what it was tuned on. It uses the format and keeps the rules of
`tests.search.labelled` (see that module's docstring): fictional students and staff, incident
notes with the kind and the category a teacher picked from the school's list, one support note
per student at most, intervention notes with the intervention type as category, and queries
written the way staff type into search, each listing the keys of the 2 to 5 notes that answer it.

- No query shares a content word (the same word or stem) with the text of any of its relevant
  notes, so a hit can only come from meaning.
- Categories mostly share no word with the queries either; only "bullying" shares one (with the
  "Bullying" category of two of its relevant notes).
- Relevance is complete: each query was checked against every note.
- Distractors share surface words with queries they do not answer, for example "animal noises"
  and "monkey noises" against "noise sensitivity", "late mark" and "permanent marker" against
  "top marks", "behind the sports hall" against "sports achievement", "had forgotten his"
  against "forgot equipment", "Arrived in the same unwashed shirt" against "arriving after the
  bell", "safety plan" against "online safety concern", "never absent" against "frequently
  absent", "attendance" against "short attention span" and foster "carers" against "young
  carer".
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

AALIYAH = "Aaliyah Grant"
DEXTER = "Dexter Pryce"
FINN = "Finn Douglas"
HANA = "Hana Yilmaz"
ISLA = "Isla McBride"
KAI = "Kai Thompson"
LEILA = "Leila Farouk"
MARCUS = "Marcus Bell"
NIAMH = "Niamh Gallagher"
REUBEN = "Reuben Osei"
RUBY = "Ruby Ashworth"
TOMASZ = "Tomasz Nowak"


NOTES: tuple[Note, ...] = (
    # --- Incidents: physical ---------------------------------------------------------------
    Note(
        "shove-railings",
        KAI,
        INCIDENT,
        NEGATIVE,
        "Physical aggression",
        "Shoved a Year 4 boy against the railings at break, then swung at him when he "
        "complained. Both spoken to by the staff on duty; Kai lost his Golden Time.",
    ),
    Note(
        "canteen-scuffle",
        DEXTER,
        INCIDENT,
        NEGATIVE,
        "Physical aggression",
        "Scuffle in the dinner queue with a lad from 10B over pushing in - traded punches until "
        "the duty team split them up. Neither badly hurt. Both in isolation Monday.",
    ),
    Note(
        "abc-headbutt",
        MARCUS,
        INCIDENT,
        NEGATIVE,
        "Physical aggression",
        "Antecedent: PE changing rooms, end of period 4. A boy in his set joked about Marcus's "
        "trainers in front of the group. Behaviour: Marcus squared up to him and headbutted him, "
        "leaving blood on his lip, then punched the lockers several times and would not calm "
        "down. Consequence: first aid for the injured boy, Marcus removed to the inclusion room, "
        "parents called, two-day suspension pending investigation.",
    ),
    # --- Incidents: verbal -----------------------------------------------------------------
    Note(
        "foul-lab",
        DEXTER,
        INCIDENT,
        NEGATIVE,
        "Verbal abuse",
        "Moved seats for chatting, then called Mr Banerjee a 'f***ing joke' under his breath, "
        "loud enough for the whole lab to hear.",
    ),
    Note(
        "corridor-kerr",
        NIAMH,
        INCIDENT,
        NEGATIVE,
        "Verbal abuse",
        "Told Mrs Kerr to 'go f*** herself' when stopped in the corridor without a pass during "
        "period 3.",
    ),
    Note(
        "cussed-sub",
        AALIYAH,
        INCIDENT,
        NEGATIVE,
        "Disrespect",
        "Cussed out the sub (Mr. Delgado) in 4th period when he marked her tardy - called him a "
        "'b****' twice. Sent to the front office.",
    ),
    # --- Incidents: defiance and disruption ------------------------------------------------
    Note(
        "refused-seat",
        KAI,
        INCIDENT,
        NEGATIVE,
        "Defiance",
        "Point-blank refused to move to his place on the seating plan. Sat with arms folded for "
        "twenty minutes and would not pick up a pencil.",
    ),
    Note(
        "headphones",
        ISLA,
        INCIDENT,
        NEGATIVE,
        "Defiance",
        "Told three times by Mr Hale to put her headphones away - carried on as if he hadn't "
        "spoken, then turned her back on him. Sent to the on-call room.",
    ),
    Note(
        "detention-walkout",
        FINN,
        INCIDENT,
        NEGATIVE,
        "Defiance",
        "Did not turn up to his after-school detention, then walked out of the rescheduled one "
        "five minutes in saying it was 'pointless'.",
    ),
    Note(
        "animal-noises",
        FINN,
        INCIDENT,
        NEGATIVE,
        "Low-level disruption",
        "Animal noises and drumming on the desk through most of the lesson, so nobody near him "
        "could get on. Moved twice.",
    ),
    Note(
        "calling-out",
        REUBEN,
        INCIDENT,
        NEGATIVE,
        "Low-level disruption",
        "Kept blurting answers and silly comments over Mrs Ng while she explained the task; the "
        "rest of the table couldn't hear her.",
    ),
    Note(
        "paper-planes",
        TOMASZ,
        INCIDENT,
        NEGATIVE,
        "Low-level disruption",
        "Paper planes across the room in French while Madame Roux was at the board, and talked "
        "over her every time she started explaining.",
    ),
    # --- Incidents: prejudice and bullying -------------------------------------------------
    Note(
        "slur-football",
        DEXTER,
        INCIDENT,
        NEGATIVE,
        "Racist incident",
        "Used an ethnic slur towards a boy from 9C during an argument about a penalty at lunch. "
        "Logged with the LA as a prejudice-related incident; parents informed.",
    ),
    Note(
        "monkey-noises",
        KAI,
        INCIDENT,
        NEGATIVE,
        "Racist incident",
        "Made monkey noises at a Black player on the visiting team during the Year 6 tournament. "
        "Apologised to the boy and his coach afterwards.",
    ),
    Note(
        "gay-insult",
        TOMASZ,
        INCIDENT,
        NEGATIVE,
        "Homophobic language",
        "Used 'gay' as an insult twice in PE when his team lost, and called a boy a 'f****t' "
        "when he dropped a catch.",
    ),
    Note(
        "hijab-pull",
        MARCUS,
        INCIDENT,
        NEGATIVE,
        "Religious hate incident",
        "Tugged at a Year 8 girl's hijab in the lunch queue and made a joke about bombs. Her "
        "family have been met; Marcus is on report.",
    ),
    Note(
        "freeze-out",
        RUBY,
        INCIDENT,
        NEGATIVE,
        "Bullying",
        "Ringleader in freezing Hana out of the friendship group for the past three weeks - told "
        "the others not to sit with her and passed round a list of 'rules' for talking to her.",
    ),
    Note(
        "tuck-money",
        MARCUS,
        INCIDENT,
        NEGATIVE,
        "Bullying",
        "Has been demanding that Year 7s hand over their tuck money at the bus stop for around a "
        "fortnight. Three boys have now come forward and are frightened of him.",
    ),
    Note(
        "snap-group",
        ISLA,
        INCIDENT,
        NEGATIVE,
        "Misuse of social media",
        "Set up a Snapchat group purely to post edited pictures of Hana with cruel captions. A "
        "parent handed in screenshots; group deleted in front of the HoY.",
    ),
    Note(
        "walk-home",
        HANA,
        INCIDENT,
        NEUTRAL,
        "Peer concern",
        "Told her tutor that a group of Year 9 girls follow her on the walk home most days, "
        "calling her names and throwing her bag into hedges. HoY to speak to the girls.",
    ),
    # --- Incidents: safeguarding, online, substances ---------------------------------------
    Note(
        "fortnite-stranger",
        REUBEN,
        INCIDENT,
        NEUTRAL,
        "Safeguarding",
        "Mentioned that a 'mate' he met on Fortnite has been sending him V-Bucks and wants to "
        "meet up at the shopping centre. DSL informed, parents contacted the same day, CEOP "
        "report discussed.",
    ),
    Note(
        "tiktok-clip",
        FINN,
        INCIDENT,
        NEGATIVE,
        "Misuse of mobile phone",
        "Filmed Ms Fenwick on his mobile without her knowledge and uploaded the clip to TikTok. "
        "Handset to the office; post taken down.",
    ),
    Note(
        "shared-image",
        AALIYAH,
        INCIDENT,
        NEUTRAL,
        "Safeguarding",
        "Came to the DSL upset: an intimate picture she sent to her ex has been forwarded round "
        "Year 10 on WhatsApp. Devices of those involved secured; police liaison informed in line "
        "with guidance.",
    ),
    Note(
        "ecig-toilets",
        DEXTER,
        INCIDENT,
        NEGATIVE,
        "Substances",
        "Caught in the boys' toilets with an e-cig at break, sickly-sweet cloud everywhere. "
        "Handed it over to Mr Shaw; parents called.",
    ),
    Note(
        "cigs-sportshall",
        NIAMH,
        INCIDENT,
        NEGATIVE,
        "Substances",
        "Seen behind the sports hall lighting cigarettes with two Year 11s. Handed over a lighter "
        "and half a pack.",
    ),
    Note(
        "weed",
        MARCUS,
        INCIDENT,
        NEGATIVE,
        "Substances",
        "Came back from lunch reeking of weed and glassy-eyed; admitted sharing a joint in the "
        "park. Sent home, police school liaison officer informed.",
    ),
    Note(
        "vodka",
        AALIYAH,
        INCIDENT,
        NEGATIVE,
        "Substances",
        "Water bottle in 5th period turned out to be vodka and squash. Nurse checked her over; "
        "mom picked her up.",
    ),
    Note(
        "tablets",
        NIAMH,
        INCIDENT,
        NEGATIVE,
        "Substances",
        "Found with a bag of unlabelled tablets she said were 'from a friend' and was offering "
        "them round the Year 10 common room. Tablets sealed and handed to the police liaison.",
    ),
    # --- Incidents: attendance and punctuality ---------------------------------------------
    Note(
        "mondays-off",
        AALIYAH,
        INCIDENT,
        NEUTRAL,
        "Attendance concern",
        "Fourth Monday off this half term, each time 'sick' by text at 8am; mom not returning "
        "calls.",
    ),
    Note(
        "late-920",
        TOMASZ,
        INCIDENT,
        NEGATIVE,
        "Lateness",
        "In at 9:20 - sixth late mark this term, no note from home. Break detention.",
    ),
    Note(
        "tardy-quarter",
        RUBY,
        INCIDENT,
        NEGATIVE,
        "Tardy",
        "Tardy to 2nd period again - third tardy this quarter. Lunch detention assigned per "
        "policy.",
    ),
    Note(
        "bus-dads",
        REUBEN,
        INCIDENT,
        NEUTRAL,
        "Punctuality",
        "Turns up to registration around ten past nine most days; says the bus from his dad's "
        "is always late. Never absent and his attendance itself is fine.",
    ),
    # --- Incidents: property, honesty, uniform, equipment ----------------------------------
    Note(
        "airpods",
        FINN,
        INCIDENT,
        NEGATIVE,
        "Stealing",
        "Pocketed a classmate's AirPods from the changing-room bench; they turned up in his "
        "blazer during a bag search with him present.",
    ),
    Note(
        "meal-deal",
        ISLA,
        INCIDENT,
        NEGATIVE,
        "Stealing",
        "Walked out of the canteen with two meal deals without paying - CCTV confirms. Agreed to "
        "pay it back from her lunch card.",
    ),
    Note(
        "purse",
        KAI,
        INCIDENT,
        NEGATIVE,
        "Stealing",
        "Admitted helping himself to a £10 note from Mrs Carter's purse on her desk during wet "
        "play. Money returned; parents met with the Head.",
    ),
    Note(
        "desk-carve",
        LEILA,
        INCIDENT,
        NEGATIVE,
        "Damage to property",
        "Scratched her initials into a brand-new desk in D4 with the point of a compass.",
    ),
    Note(
        "toilet-flood",
        MARCUS,
        INCIDENT,
        NEGATIVE,
        "Damage to property",
        "Ripped the hand dryer off the wall in the upstairs boys' toilets and jammed the sinks "
        "with paper towels - water came through the library ceiling below.",
    ),
    Note(
        "tagged-door",
        ISLA,
        INCIDENT,
        NEGATIVE,
        "Damage to property",
        "Tagged the back door of the science block in permanent marker; caught on the camera by "
        "the bins.",
    ),
    Note(
        "forged-slip",
        RUBY,
        INCIDENT,
        NEGATIVE,
        "Dishonesty",
        "Forged her mum's signature on the detention slip in her planner; mum rang to say she "
        "had never seen it.",
    ),
    Note(
        "coursework-claim",
        DEXTER,
        INCIDENT,
        NEGATIVE,
        "Dishonesty",
        "Insisted he'd handed his coursework in on Friday. His English teacher had no record of "
        "it and he later admitted it wasn't written yet.",
    ),
    Note(
        "false-name",
        FINN,
        INCIDENT,
        NEGATIVE,
        "Dishonesty",
        "Gave the lunch supervisor a made-up name ('Jack Smith') when she stopped him running in "
        "the hall.",
    ),
    Note(
        "trainers",
        LEILA,
        INCIDENT,
        NEGATIVE,
        "Uniform",
        "No blazer again and black trainers instead of shoes. Loan shoes from student services; "
        "letter home.",
    ),
    Note(
        "nails-stud",
        AALIYAH,
        INCIDENT,
        NEUTRAL,
        "Uniform",
        "Acrylic nails and a nose stud - stud covered with a plaster per policy, mom notified "
        "about the nails.",
    ),
    Note(
        "hoodie",
        MARCUS,
        INCIDENT,
        NEGATIVE,
        "Uniform",
        "Wore a grey hoodie over his jumper all morning; took it off after a reminder from his "
        "tutor and it was kept in the office till home time.",
    ),
    Note(
        "no-pen",
        FINN,
        INCIDENT,
        NEGATIVE,
        "Not prepared for learning",
        "No pen, no ruler, no calculator - third maths lesson running. Lent kit and given a "
        "same-day detention.",
    ),
    Note(
        "pe-kit",
        LEILA,
        INCIDENT,
        NEUTRAL,
        "Not prepared for learning",
        "Left her PE kit at home again; sat out and umpired instead.",
    ),
    Note(
        "no-planner",
        TOMASZ,
        INCIDENT,
        NEGATIVE,
        "Not prepared for learning",
        "Came to tutor time without his planner or his reading book for the fourth day.",
    ),
    # --- Incidents: welfare, safeguarding, health ------------------------------------------
    Note(
        "unwashed-shirt",
        REUBEN,
        INCIDENT,
        NEUTRAL,
        "Safeguarding",
        "Arrived in the same unwashed shirt for the fourth day running, no coat despite the "
        "frost, and ate three portions at breakfast club. Logged on CPOMS for the DSL.",
    ),
    Note(
        "head-lice",
        LEILA,
        INCIDENT,
        NEUTRAL,
        "Safeguarding",
        "Head lice untreated for several weeks now - scratching all through lessons. Has also "
        "mentioned toothache on and off since October; not registered with a dentist.",
    ),
    Note(
        "bruise-arm",
        KAI,
        INCIDENT,
        NEUTRAL,
        "Safeguarding",
        "Fingertip bruising on his upper arm spotted when changing for PE. Said 'Dad grabbed me "
        "when I wouldn't get in the car.' DSL informed, MASH referral made.",
    ),
    Note(
        "belt-disclosure",
        TOMASZ,
        INCIDENT,
        NEUTRAL,
        "Safeguarding",
        "Told his TA that his stepdad 'uses the belt' on him when he answers back. Disclosure "
        "procedure followed; DSL rang children's social care the same afternoon.",
    ),
    Note(
        "panic-mock",
        HANA,
        INCIDENT,
        NEUTRAL,
        "Wellbeing",
        "Panic attack outside the hall before the English mock - hyperventilating and shaking, "
        "couldn't go in. Sat the paper later in a small room with a TA.",
    ),
    Note(
        "journal",
        NIAMH,
        INCIDENT,
        NEUTRAL,
        "Safeguarding",
        "Wrote in her English journal that everyone would be better off without her. DSL "
        "informed the same day; foster carers and social worker contacted.",
    ),
    Note(
        "counselor",
        DEXTER,
        INCIDENT,
        NEUTRAL,
        "Mental health",
        "Told the school counselor he 'doesn't want to be here anymore' and has looked up ways "
        "to end it. Parents in for a meeting; risk assessment completed.",
    ),
    Note(
        "fire-drill",
        REUBEN,
        INCIDENT,
        NEUTRAL,
        "SEN",
        "Fire drill: when the alarm bell went he ended up lying under the table with his hands "
        "over his ears, screaming. Took 30 minutes to settle in the calm room.",
    ),
    Note(
        "kiwi",
        HANA,
        INCIDENT,
        NEUTRAL,
        "Medical",
        "Lips swelled and hives came up after tasting kiwi in food tech. Piriton given by the "
        "first aider; mum collected.",
    ),
    Note(
        "hypo-pe",
        AALIYAH,
        INCIDENT,
        NEUTRAL,
        "Medical",
        "Went pale and shaky in PE, pump read 3.1 - jelly babies and a biscuit, rechecked after "
        "15 minutes at 6.4 and went back to class.",
    ),
    Note(
        "dad-moved-out",
        RUBY,
        INCIDENT,
        NEUTRAL,
        "Wellbeing",
        "Tearful in tutor time - says Dad moved out at the weekend and Mum has told them they're "
        "getting divorced. Tutor to check in daily.",
    ),
    # --- Incidents: positive ---------------------------------------------------------------
    Note(
        "new-girl",
        HANA,
        INCIDENT,
        POSITIVE,
        "Citizenship",
        "Sat with the new Year 7 girl who was crying at lunch and walked her to her next lesson "
        "without being asked.",
    ),
    Note(
        "carried-bag",
        MARCUS,
        INCIDENT,
        POSITIVE,
        "Citizenship",
        "Gave up his break all week to carry a Year 7's bag and tray while the lad's arm was in "
        "a cast.",
    ),
    Note(
        "shared-lunch",
        KAI,
        INCIDENT,
        POSITIVE,
        "Citizenship",
        "Shared his packed lunch with a friend who had forgotten his.",
    ),
    Note(
        "redraft",
        TOMASZ,
        INCIDENT,
        POSITIVE,
        "Effort",
        "Redrafted his history essay four times until the argument hung together - never once "
        "complained.",
    ),
    Note(
        "dt-project",
        LEILA,
        INCIDENT,
        POSITIVE,
        "Effort",
        "Stayed behind three lunchtimes in a row to rebuild her DT project after the glue gun "
        "wrecked it.",
    ),
    Note(
        "french-translation",
        FINN,
        INCIDENT,
        POSITIVE,
        "Effort",
        "Stuck with the French translation all lesson even when the first five came back wrong - "
        "asked for help instead of walking out.",
    ),
    Note(
        "physics-mock",
        ISLA,
        INCIDENT,
        POSITIVE,
        "Achievement",
        "Highest score in the year group on the physics mock - 94%.",
    ),
    Note(
        "vocab-quiz",
        HANA,
        INCIDENT,
        POSITIVE,
        "Achievement",
        "20/20 in the weekly Spanish vocab quiz, first time ever.",
    ),
    Note(
        "cs-grade9",
        REUBEN,
        INCIDENT,
        POSITIVE,
        "Achievement",
        "Grade 9 on the computer science practical - the only one in the set.",
    ),
    Note(
        "bake-sale",
        NIAMH,
        INCIDENT,
        POSITIVE,
        "Community",
        "Organised the Year 9 bake sale for the children's hospice: drew up the rota, chased the "
        "donations and counted the takings with Mr Shaw. Raised £312.",
    ),
    Note(
        "council-rep",
        AALIYAH,
        INCIDENT,
        POSITIVE,
        "Student voice",
        "As student council rep, gave a speech to the principal proposing the new cafeteria menu "
        "and ran the follow-up survey of her grade.",
    ),
    Note(
        "netball-captain",
        RUBY,
        INCIDENT,
        POSITIVE,
        "Extra-curricular",
        "Captained the U14 netball team to the county final; ran the warm-up and kept the "
        "younger girls calm when they went behind.",
    ),
    Note(
        "cello",
        REUBEN,
        INCIDENT,
        POSITIVE,
        "Extra-curricular",
        "Played a cello solo at the winter concert without a single slip - standing ovation.",
    ),
    Note(
        "monologue",
        MARCUS,
        INCIDENT,
        POSITIVE,
        "Achievement",
        "His monologue in the Year 10 showcase had the audience in tears; Mr Idowu says he has "
        "real stage presence.",
    ),
    Note(
        "nancy",
        ISLA,
        INCIDENT,
        POSITIVE,
        "Extra-curricular",
        "Cast as Nancy in the school production of Oliver! and knew every line a fortnight early.",
    ),
    Note(
        "800m",
        DEXTER,
        INCIDENT,
        POSITIVE,
        "Extra-curricular",
        "Won the district 800m final in a new school record time.",
    ),
    Note(
        "county-rugby",
        TOMASZ,
        INCIDENT,
        POSITIVE,
        "Extra-curricular",
        "Selected for the county U15 rugby squad after trials at the weekend.",
    ),
    Note(
        "food-bank",
        HANA,
        INCIDENT,
        POSITIVE,
        "Community",
        "Gave up four Saturdays in December to sort donations at the town food bank with her "
        "mosque.",
    ),
    Note(
        "care-home",
        FINN,
        INCIDENT,
        POSITIVE,
        "Community",
        "Read to residents at Oakfield care home on the Year 8 visit - one lady asked if he "
        "could come back every week.",
    ),
    # --- Support notes (one per student) ---------------------------------------------------
    Note(
        "s-kai",
        KAI,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Counts on fingers for single-digit addition and is unsure of place value beyond 100; "
        "the dyscalculia screener flagged him in Year 4. Use Numicon and a hundred square, and "
        "give him concrete objects before any written method.",
    ),
    Note(
        "s-isla",
        ISLA,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Worries constantly about her mum's health (mum is in cancer treatment) and about "
        "getting things wrong. Can become tearful, breathless and shaky before tests. Let her "
        "sit near the door and use her worry book; a quiet word beforehand helps.",
    ),
    Note(
        "s-reuben",
        REUBEN,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Autistic (diagnosed 2022). The fire alarm, the dinner hall at peak time and assemblies "
        "are overwhelming - ear defenders in his tray and a pass to eat in the library. Signs of "
        "overload: rocking, humming. Give warning of any timetable change.",
    ),
    Note(
        "s-hana",
        HANA,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Stammer (blocks on initial sounds), seen by SALT since Reception. Don't finish her "
        "sentences for her; accept answers in writing if she prefers; warn her before asking her "
        "to read aloud. Never volunteers answers in whole-class discussion.",
    ),
    Note(
        "s-dexter",
        DEXTER,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Mum and Dad split up in the summer; he now alternates weeks between two homes on "
        "opposite sides of town. Send letters to both addresses.",
    ),
    Note(
        "s-leila",
        LEILA,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Looks after two little brothers and helps Mum, who has MS, with her medication and the "
        "shopping. Often off when Mum has a flare-up and often tired; flexible homework "
        "deadlines agreed.",
    ),
    Note(
        "s-marcus",
        MARCUS,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Managed move from another secondary in September after time at the PRU. Responds well "
        "to Mr Idowu as key adult; avoid public confrontation - offer choices and take-up time.",
    ),
    Note(
        "s-niamh",
        NIAMH,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Looked-after child, in a foster placement since Year 8. PEP reviewed termly with Ms Orr "
        "(designated teacher). Contact with birth mum on Saturdays; often unsettled on Mondays.",
    ),
    Note(
        "s-tomasz",
        TOMASZ,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Ed psych assessment in Year 5 found a specific learning difficulty in literacy: decoding "
        "and spelling well below age. Blue overlay, printed copies of board notes, 25% extra "
        "time and a reader in exams.",
    ),
    Note(
        "s-aaliyah",
        AALIYAH,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Type 1 diabetic with an insulin pump. Hypo kit (glucose tablets, juice) at reception "
        "and in her bag. Must be allowed to eat in class and go to the nurse without question.",
    ),
    Note(
        "s-finn",
        FINN,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "ADHD, on methylphenidate (morning dose at home). Flits between tasks and rarely "
        "completes written work. Seat him at the front away from the window, break work into "
        "small chunks, allow a fidget toy and a movement-break card.",
    ),
    Note(
        "s-ruby",
        RUBY,
        SUPPORT,
        NEUTRAL,
        "Support notes",
        "Severe peanut and tree-nut anaphylaxis. Two auto-injectors: one in her bag, one in the "
        "medical room. Food tech: check every ingredient; she must not share food.",
    ),
    # --- Intervention notes ----------------------------------------------------------------
    Note(
        "i-numicon",
        KAI,
        INTERVENTION,
        NEUTRAL,
        "Maths intervention",
        "Numicon 1:1 with Mrs Hale, 3 x 20 minutes a week: bonds to 10 and partitioning "
        "two-digit values. Now recognises amounts up to 6 at a glance.",
    ),
    Note(
        "i-toe-by-toe",
        TOMASZ,
        INTERVENTION,
        NEUTRAL,
        "Literacy intervention",
        "Toe by Toe daily, 15 minutes before registration with a TA. Now on page 86; sight "
        "vocabulary up, still guesses at multisyllabic words.",
    ),
    Note(
        "i-language-link",
        HANA,
        INTERVENTION,
        NEUTRAL,
        "Communication and interaction",
        "Weekly SALT-led small group (Language Link): narrative structure and vocabulary. Also "
        "practising easy onset and slow starts with Mr Bryce between sessions.",
    ),
    Note(
        "i-movement-breaks",
        FINN,
        INTERVENTION,
        NEUTRAL,
        "Classroom adjustments",
        "Movement break every 20 minutes, timer on his desk, work chunked into three steps with "
        "a tick list. Completing more tasks and fewer times out of his seat.",
    ),
    Note(
        "i-ewo",
        AALIYAH,
        INTERVENTION,
        NEUTRAL,
        "EWO referral",
        "Referred to the Education Welfare Officer: 82% so far this year, mostly Mondays and "
        "Fridays missed. Home visit booked; parenting contract discussed with mom.",
    ),
    Note(
        "i-elsa",
        ISLA,
        INTERVENTION,
        NEUTRAL,
        "ELSA",
        "ELSA sessions weekly (6-week block): worry tree, box breathing, sorting what is and "
        "isn't in her control. Says the butterflies before tests are easier to manage now.",
    ),
    Note(
        "i-camhs",
        NIAMH,
        INTERVENTION,
        NEUTRAL,
        "CAMHS referral",
        "Urgent CAMHS referral after she said she wanted to die; seen by the crisis team within "
        "48 hours. Safety plan agreed with her foster carers and social worker; daily check-in "
        "with Ms Orr.",
    ),
    Note(
        "i-home-responsibilities",
        LEILA,
        INTERVENTION,
        NEUTRAL,
        "Family support",
        "Joined the Thursday lunchtime club for pupils who look after someone at home. The "
        "borough has offered her a respite trip to the climbing centre at half term.",
    ),
    Note(
        "i-counselling",
        DEXTER,
        INTERVENTION,
        NEUTRAL,
        "Counselling",
        "Six sessions with the school counsellor: talking through moving between Mum's and "
        "Dad's since the divorce. Uses the time to vent and says it helps.",
    ),
    Note(
        "i-restorative",
        RUBY,
        INTERVENTION,
        NEUTRAL,
        "Restorative justice",
        "Restorative meeting with Hana and both families after the friendship-group "
        "exclusion. Ruby wrote an apology and agreed to a fresh start; HoY to review in 2 weeks.",
    ),
    Note(
        "i-mentoring",
        MARCUS,
        INTERVENTION,
        NEUTRAL,
        "Mentoring",
        "Weekly mentoring with Mr Idowu. Targets: stay in lessons, no removals. Three weeks now "
        "without an isolation.",
    ),
)


QUERIES: tuple[Query, ...] = (
    Query("gets into fights", ("shove-railings", "canteen-scuffle", "abc-headbutt")),
    Query("swearing at a teacher", ("foul-lab", "corridor-kerr", "cussed-sub")),
    Query("won't do what staff ask", ("refused-seat", "headphones", "detention-walkout")),
    Query("constantly interrupting", ("animal-noises", "calling-out", "paper-planes")),
    Query(
        "discriminatory remarks",
        ("slur-football", "monkey-noises", "gay-insult", "hijab-pull"),
    ),
    Query(
        "bullying",
        ("freeze-out", "tuck-money", "snap-group", "walk-home", "i-restorative"),
    ),
    Query(
        "online safety concern",
        ("snap-group", "fortnite-stranger", "tiktok-clip", "shared-image"),
    ),
    Query("vaping or smoking", ("ecig-toilets", "cigs-sportshall", "weed")),
    Query("drugs or alcohol", ("weed", "vodka", "tablets")),
    Query("frequently absent", ("mondays-off", "i-ewo", "s-leila")),
    Query(
        "arriving after the bell",
        ("late-920", "tardy-quarter", "bus-dads", "cussed-sub"),
    ),
    Query("theft", ("airpods", "meal-deal", "purse", "tuck-money")),
    Query("vandalism", ("desk-carve", "toilet-flood", "tagged-door")),
    Query("lying to staff", ("forged-slip", "coursework-claim", "false-name")),
    Query("dress code", ("trainers", "nails-stud", "hoodie")),
    Query("forgot equipment", ("no-pen", "pe-kit", "no-planner")),
    Query("signs of neglect", ("unwashed-shirt", "head-lice")),
    Query("hurt by a parent", ("bruise-arm", "belt-disclosure")),
    Query("anxiety", ("panic-mock", "s-isla", "i-elsa")),
    Query("suicidal thoughts", ("journal", "counselor", "i-camhs")),
    Query("dyslexia", ("s-tomasz", "i-toe-by-toe")),
    Query("numeracy gaps", ("s-kai", "i-numicon")),
    Query("speech therapy", ("s-hana", "i-language-link")),
    Query("noise sensitivity", ("s-reuben", "fire-drill")),
    Query("short attention span", ("s-finn", "i-movement-breaks")),
    Query("allergic reaction", ("s-ruby", "kiwi")),
    Query("low blood sugar", ("s-aaliyah", "hypo-pe")),
    Query("parents separating", ("s-dexter", "i-counselling", "dad-moved-out")),
    Query("young carer", ("s-leila", "i-home-responsibilities")),
    Query("kindness to a peer", ("new-girl", "carried-bag", "shared-lunch")),
    Query("perseverance", ("redraft", "dt-project", "french-translation")),
    Query("top marks", ("physics-mock", "vocab-quiz", "cs-grade9")),
    Query("took charge of a group", ("bake-sale", "council-rep", "netball-captain")),
    Query("performing arts", ("cello", "monologue", "nancy")),
    Query("sports achievement", ("netball-captain", "800m", "county-rugby")),
    Query("volunteering", ("bake-sale", "food-bank", "care-home")),
)
