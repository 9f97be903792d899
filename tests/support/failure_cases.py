"""Caller phrasings for the failure-class tests (tests/dialog/test_failure_classes.py), in our own
words: typed and lower-case ASR style. Kept apart from the tests so each list reads as a table.

Expected values are what the lead must carry; a frozenset lists the acceptable spellings of one
fact, never a spread of different facts.
"""

from __future__ import annotations

from .script_caller import ANY, Step

S = Step
TODAY = "2026-12-03"
DATE = "ASK_APPOINTMENT_DATE"
OFFER = "OFFER_APPOINTMENT_TIMES"
CHECK = "CHECK_CONTRAINDICATIONS"
PHONE = "ASK_PHONE"
AGE = "ASK_AGE_WEIGHT"
FIXED_PHONE = "+79161321245"  # "916 132-12-45", after "не сто двадцать три, а сто тридцать два"

ORDINAL_DAYS = [
    ("десятого", "2026-12-10"),
    ("давайте на седьмое", "2026-12-07"),
    ("Восьмого числа, если можно.", "2026-12-08"),
    ("на третье", TODAY),
    ("ну числа пятнадцатого", "2026-12-15"),
]

BEYOND_HORIZON = ["двадцать девятого", "Давайте на тридцатое."]  # the horizon ends on 17 December

POSITIONS = [("первое", 0), ("второй вариант", 1), ("Самое раннее.", "min"), ("давайте последнее", -1),
             ("давайте второе", 1)]

QUESTIONS_BACK = [
    ("OFFER_VIDEO_CONCLUSION", "а картой можно?", "payment", {"video_conclusion": False}),
    ("OFFER_VIDEO_CONCLUSION", "а оплатить картой можно", "payment", {"video_conclusion": False}),
    ("ANNOUNCE_MEDIA_PRICE", "а по омс можно", "oms", {"media": False}),
    ("CONFIRM_TIME", "А как к вам доехать от метро?", "address", {}),
    ("ASK_PHONE", "это живой человек?", "robot", {"phone": "+79161234567"}),
    ("ASK_STUDY_DECISION", "а по выходным вы работаете", "hours", {}),
    ("ASK_APPOINTMENT_DATE", "а парковка у вас есть", "parking", {}),
]

# Asking for a person is a transfer; asking whether the agent is one ("это живой человек?") is not.
PERSON_ASKED = [("ASK_PHONE", "соедините меня с живым человеком"),
                ("ASK_AGE_WEIGHT", "дайте администратора пожалуйста, не хочу с роботом")]

NAMES = [
    ("Зинаида Петровна", "Зинаида Петровна"),
    ("зинаида петровна", "Зинаида Петровна"),
    ("меня зовут вера", "Вера"),
    ("Любовь.", "Любовь"),
    ("надежда меня зовут", "Надежда"),
    ("это роман", "Роман"),
    ("иванова светлана", frozenset({"Светлана", "Светлана Иванова", "Иванова Светлана"})),
    ("Петров Роман Сергеевич", frozenset({"Роман Сергеевич", "Петров Роман Сергеевич", "Роман Сергеевич Петров"})),
]

SWITCHES = [
    (CHECK, "боюсь тесноты, в лифте плохо", "claustrophobia"),
    (CHECK, "ой я в трубе не смогу у меня панические атаки", "claustrophobia"),
    (CHECK, "в плече стоит пластина", "metal_implants"),
    (CHECK, "У меня в ноге штифт после перелома.", "metal_implants"),
    ("ASK_SYMPTOMS", "болит колено, и я боюсь замкнутого пространства", "claustrophobia"),
    ("ASK_SYMPTOMS", "колено болит, там с прошлого года пластина стоит", "metal_implants"),
]

DICTATIONS = [
    [S(PHONE, "ну... восемь... девятьсот... э-э... шестнадцать... сто тридцать два... двенадцать... сорок пять")],
    [S(PHONE, "восемь девятьсот шестнадцать, сто двадцать три, ой, не сто двадцать три, а сто тридцать два, "
              "двенадцать сорок пять")],
    [S(PHONE, "8 916 123 12 45 нет не 123 а 132")],
    [S(PHONE, "плюс семь девятьсот шестнадцать эм сто тридцать два двенадцать сорок пять")],
    [S(PHONE, "восемь девятьсот шестнадцать сто двадцать три двенадцать сорок пять"),
     S(ANY, "не сто двадцать три, а сто тридцать два")],
    [S(PHONE, "восемь девятьсот шестнадцать сто двадцать три двенадцать сорок пять"),
     S(ANY, "ой подождите, там не сто двадцать три а сто тридцать два")],
    [S(PHONE, "восемь девятьсот шестнадцать"), S(PHONE, "сто тридцать два"), S(PHONE, "двенадцать сорок пять")],
]

DURATIONS = [
    ("третью неделю", "3 недели"),
    ("3 недели наверно", "3 недели"),
    ("второй месяц уже", frozenset({"2 месяца", "больше месяца"})),
    ("месяц примерно", frozenset({"1 месяц", "месяц", "около месяца"})),
    ("с весны", frozenset({"9 месяцев", "с весны"})),
    ("с прошлого лета", frozenset({"1,5 года", "полтора года", "18 месяцев", "с прошлого лета"})),
    ("пару дней как", "2 дня"),
]

AGES = [
    ([S(AGE, "шестьдесят второго года рождения, вешу семьдесят пять")], 64, 75),
    ([S(AGE, "я тысяча девятьсот шестьдесят второго года вес семьдесят пять")], 64, 75),
    ([S(AGE, "1962 г.р., вес 75 кг")], 64, 75),
    ([S(AGE, "семьдесят пятого года рождения, вес семьдесят пять")], 51, 75),
    ([S(AGE, "сорок с небольшим, вешу семьдесят пять"), S(AGE, "сорок три года", retry=True)], 43, 75),
    ([S(AGE, "лет пятьдесят с хвостиком, вес семьдесят пять"), S(AGE, "пятьдесят два", retry=True)], 52, 75),
]

YES_NO = [
    ("OFFER_VIDEO_CONCLUSION", "пожалуй, нет", "да, добавьте", {"video_conclusion": False}),
    ("OFFER_VIDEO_CONCLUSION", "не-не", "да, добавьте", {"video_conclusion": False}),
    ("ANNOUNCE_MEDIA_PRICE", "да не надо", "да, нужно", {"media": False}),
    ("ANNOUNCE_MEDIA_PRICE", "давайте без этого", "да, нужно", {"media": False}),
    ("OFFER_VIDEO_CONCLUSION", "ну можно", "нет, не надо", {"video_conclusion": True}),
    ("ANNOUNCE_MEDIA_PRICE", "Ну давайте.", "нет, не надо", {"media": True}),
    ("ASK_VISITED_DOCTOR", "не-не, не была", "да, была", {"visited_doctor": False}),
    ("ASK_STUDY_DECISION", "пожалуй, нет", "да", {"status": "declined"}),
    ("ASK_STUDY_DECISION", "да не надо, спасибо", "да", {"status": "declined"}),
]

RECOMMEND = [("болит колено", "knee"), ("поясница болит, отдаёт в ногу", "lumbar_spine"),
             ("голова часто болит и кружится", "brain"), ("плечо болит рука не поднимается", "shoulder")]

DURATION_FORMS = [
    ("пять лет уже", "5 лет"),
    ("двое суток", frozenset({"2 суток", "2 дня"})),
    ("полторы недели", frozenset({"1,5 недели", "полторы недели"})),
    ("двадцать один день", "21 день"),
    ("года три", frozenset({"3 года", "около 3 лет"})),
]

AFTER_FIFTH = ["после пятого", "где-нибудь после пятого числа", "Давайте после 5-го."]

DAVAYTE = ["давайте", "ну давайте", "Давайте."]

PREGNANT = ["я на четвёртом месяце", "я беременна, восемь недель", "Я в положении, срок маленький."]

DECLINES = ["нет, врач сказал именно МРТ, тогда не надо",
            "не, кт мне не нужно, только мрт, тогда не буду записываться"]

PASSED = ["в девять утра", "давайте в восемь утра", "в 9:30"]

PRICE_ASKS = [("а сколько стоит кт головы?", "ct_brain"), ("мрт плеча почём у вас", "mri_shoulder")]

NOT_OFFERED = [("мне нужна маммография", "mammography"), ("а флюорографию у вас можно сделать", "xray"),
               ("здравствуйте мне бы гастроскопию сделать", "endoscopy")]

# A yes that names no discount, said at every discount question (the endless call of issue 9).
DISCOUNT_YES = ["ага", "ну да", "Хорошо."]
