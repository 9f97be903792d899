"""What fuzzed callers say: cooperative answers per question state, and the noise around them.

Written the way people talk on the phone and the way ASR writes them down (lower case, no
punctuation, digits, misspellings, fillers). The pools are deliberately wider than what the
engine is known to understand: the fuzzer asserts invariants that must hold whatever is said,
not that each answer is understood.
"""

from __future__ import annotations

import random

from .corpus_words import TENS, UNITS, words  # one number speller for all test data

ORDINAL_GEN = ("первого", "второго", "третьего", "четвертого", "пятого", "шестого", "седьмого", "восьмого",
               "девятого", "десятого", "одиннадцатого", "двенадцатого", "тринадцатого", "четырнадцатого",
               "пятнадцатого", "шестнадцатого", "семнадцатого", "восемнадцатого", "девятнадцатого", "двадцатого")
MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа", "сентября", "октября",
          "ноября", "декабря")


def ordinal_day(day: int) -> str:
    """1..31 as the genitive ordinal a caller uses for a date ("двадцать девятого")."""
    if day <= 20:
        return ORDINAL_GEN[day - 1]
    if day == 30:
        return "тридцатого"
    head = "двадцать" if day < 30 else "тридцать"
    return f"{head} {ORDINAL_GEN[day % 10 - 1]}"


TENS_GEN = {20: "двадцатого", 30: "тридцатого", 40: "сорокового", 50: "пятидесятого", 60: "шестидесятого",
            70: "семидесятого", 80: "восьмидесятого", 90: "девяностого"}


def birth_year(year: int) -> str:
    """A birth year as callers say it: "шестьдесят второго", "две тысячи десятого"."""
    y = year % 100
    if year >= 2000:
        head = "две тысячи"
        return f"{head} {ORDINAL_GEN[y - 1]}" if 1 <= y <= 20 else f"{head} {TENS_GEN.get(y) or TENS[y // 10] + ' ' + ORDINAL_GEN[y % 10 - 1]}"
    if y < 20:
        return ORDINAL_GEN[y - 1] if y else "девятисотого"
    return TENS_GEN.get(y) or f"{TENS[y // 10]} {ORDINAL_GEN[y % 10 - 1]}"


FILLERS = ("э-э", "ну", "алло", "вот", "так", "эм", "ммм", "ну это", "как его", "слушайте", "короче", "ага ну")
OFF_SCRIPT = (
    "а картой можно", "а где вы находитесь", "это робот", "это живой человек", "а по омс можно",
    "сколько стоит", "как к вам доехать от метро", "а парковка есть", "а до скольки вы работаете",
    "а когда будет результат", "а что с собой взять", "а натощак надо", "а скидки есть",
    "вы меня слышите", "повторите пожалуйста", "что что не расслышал", "а сколько по времени длится",
    "а направление нужно", "а можно по дмс", "а у вас открытый томограф",
)
REFUSALS = ("нет спасибо не надо", "не буду записываться", "дорого я передумал", "нет давайте без этого",
            "не нужно мне ничего", "отказываюсь")
CALLBACKS = ("перезвоните мне попозже", "я сейчас за рулем перезвоните", "можно вы перезвоните завтра",
             "неудобно говорить перезвоните")
HUMANS = ("соедините с администратором", "позовите живого человека", "дайте оператора")
LATIN = ("ok", "yes yes", "hello", "mrt knee please", "👍", "😀😀", "ну 🙂 да", "WTF", "null", "None", "<b>да</b>",
         "'; drop table sessions; --", "{\"text\": 1}", "\u200b", "да\u0000", "\t\n ", "да да да да да да да")
CORRECTIONS = (
    "нет не в пятницу а в субботу", "ой нет лучше в понедельник", "не в два а в три", "давайте на другой день",
    "нет подождите номер другой восемь девятьсот двадцать шесть пятьсот пятьдесят пять сорок четыре тридцать три",
    "телефон не тот последние цифры шестьдесят восемь", "меня зовут не ольга а оксана", "лучше кт а не мрт",
    "нет давайте мрт", "хотя нет давайте узи", "мне пятьдесят а не сорок", "вес не девяносто а сто сорок",
    "ой у меня же кардиостимулятор", "я забыла сказать у меня пластина в ноге", "нет не на завтра а на послезавтра",
    "не сто двадцать три а сто тридцать два", "давайте попозже вечером", "а лучше утром",
)
GARBAGE_SYLLABLES = ("ка", "ры", "бо", "жу", "щи", "пле", "ст", "ов", "ный", "про", "ва", "мы", "гр", "ть", "ёж", "ъ")

POOLS: dict[str, tuple[str, ...]] = {
    "GREETING": (
        "здравствуйте хочу записаться на обследование", "алло добрый день мне бы на мрт записаться",
        "здрасте я по поводу мрт колена", "добрый день хочу сделать кт легких", "здравствуйте мне нужно узи живота",
        "да здравствуйте записаться хочу", "здравствуйте меня зовут ирина хочу на мрт головы в субботу",
        "добрый вечер подскажите хочу обследоваться", "алло это медскан", "здравствуйте у меня спина болит",
        "мне врач сказал сделать мрт позвоночника", "я иван петрович хочу на кт пазух завтра", "алло", "",
    ),
    "ASK_CLIENT_NAME": (
        "меня зовут ольга", "ольга", "иван петрович", "зинаида петровна", "сергей", "это марина",
        "наталья сергеевна", "петров алексей", "вера", "меня роман зовут", "анна михайловна", "дмитрий",
        "зовут татьяна", "любовь ивановна", "надежда", "олег викторович", "кузнецова елена", "саша",
        "меня зовут галина", "николай",
    ),
    "ASK_SYMPTOMS": (
        "болит колено после падения", "голова болит уже давно", "спина болит стреляет в ногу", "кашель и температура",
        "болит живот справа", "плечо болит рука не поднимается", "хруст в шее", "ничего не болит просто провериться",
        "жалоб нет мне врач направил", "поясница болит", "гайморит замучил", "ком в горле", "головокружения бывают",
        "колено опухло", "болит между лопатками", "почки болят", "бедро болит хромаю", "шум в ушах",
    ),
    "ASK_SYMPTOMS_DURATION": (
        "две недели", "уже месяц", "третью неделю", "с весны", "пару дней", "года два", "полгода примерно",
        "не помню", "дня три", "с прошлого лета", "давно", "неделю", "второй месяц", "месяц примерно", "5 дней",
        "с нового года", "вчера началось", "лет пять уже",
    ),
    "ASK_PAIN_CHARACTER": (
        "ноющая", "острая", "тянущая боль", "при движении болит", "стреляет", "ну такая ноет", "не знаю как описать",
        "пульсирующая", "резкая", "тупая", "жгучая", "не болит просто неприятно", "когда хожу болит",
    ),
    "ASK_VISITED_DOCTOR": (
        "да", "была у травматолога", "нет еще не был", "да невролог направил", "нет", "ага был", "не ходил",
        "да у терапевта", "нет сам решил", "да есть направление", "пока нет",
    ),
    "ASK_STUDY_REQUEST": (
        "мрт колена", "кт грудной клетки", "узи брюшной полости", "мрт головного мозга", "мрт поясницы", "кт пазух",
        "узи щитовидки", "мрт шейного отдела", "не знаю что посоветуете", "магнитку спины", "мрт плеча", "узи почек",
        "мрт тазобедренного сустава", "кт головы", "узи колена", "кт живота", "мрт брюшной полости",
        "мрт сердца", "рентген", "мрт грудного отдела",
    ),
    "RECOMMEND_STUDY": ("да давайте", "да", "хорошо", "ага", "давайте", "да записывайте", "нет не надо", "ну можно",
                        "угу", "конечно", "а другое нельзя", "пожалуй нет"),
    "ASK_STUDY_DECISION": ("да", "да записывайте", "давайте", "хорошо", "ну да", "нет дорого", "конечно записывайте",
                           "ага", "ну можно", "да не надо"),
    "OFFER_VIDEO_CONCLUSION": ("нет спасибо", "да добавьте", "не надо", "давайте", "нет", "не нужно", "да можно",
                               "хорошо", "не-не", "давайте без этого"),
    "ANNOUNCE_MEDIA_PRICE": ("нет не нужно", "да на флешку", "на диск да", "нет", "не надо", "давайте", "ага",
                             "пожалуй нет", "флешку свою принесу"),
    "ASK_APPOINTMENT_DATE": (
        "в пятницу", "завтра", "в субботу", "послезавтра", "в понедельник", "на следующей неделе во вторник",
        "тридцатого", "второго декабря", "на 3 декабря", "как можно скорее", "в любой день", "в четверг утром",
        "в воскресенье", "сегодня вечером", "в среду после обеда", "давайте завтра утром", "не знаю когда свободно",
        "после пятого числа", "на третье", "двадцать девятого", "через неделю", "в выходные", "сегодня",
        "на 15 декабря", "в январе",
    ),
    "OFFER_APPOINTMENT_TIMES": (
        "давайте первое", "второй вариант", "в два часа", "на 14 30", "в десять", "давайте последнее",
        "самое раннее", "ближе к вечеру", "в три часа дня", "первое время", "в 12", "любое", "давайте в одиннадцать",
        "давайте", "в 18 00", "в девять утра", "а попозже есть", "в восемь вечера", "в половину третьего",
    ),
    "CONFIRM_TIME": ("да", "верно", "да все правильно", "нет другое время", "ага", "подтверждаю", "да да", "угу",
                     "нет неудобно", "хорошо"),
    "ASK_AGE_WEIGHT": (),  # generated: see age_weight()
    "ASK_PHONE": (),  # generated: see phone()
    "CHECK_CONTRAINDICATIONS": (
        "нет", "нет ничего такого", "у меня кардиостимулятор", "пластина в ноге", "боюсь замкнутого пространства",
        "я беременна", "помпа инсулиновая стоит", "нет ничего нет", "в плече стоит пластина", "нету",
        "я на четвертом месяце", "боюсь тесноты в лифте плохо", "слуховой аппарат", "ничего", "нет нет",
        "штифт в руке", "да есть", "не знаю",
    ),
    "CHECK_DISCOUNTS": ("нет", "я пенсионерка", "студент", "уже была у вас", "хорошо", "ага", "ну да",
                        "нет не отношусь", "да я пенсионер", "не", "учусь в институте", "нет к сожалению"),
    "CONFIRM_APPOINTMENT": ("да всё верно", "да", "верно", "подтверждаю", "нет телефон другой",
                            "нет не в пятницу а в субботу", "да да все так", "ага", "нет", "все правильно"),
}
GENERIC = ("да", "нет", "не знаю", "хорошо", "ага", "давайте")


def phone(rng: random.Random) -> str:
    """A mobile number dictated one of the ways callers dictate it."""
    op = rng.choice((916, 903, 926, 985, 999, 915, 968))
    mid, a, b = rng.randrange(100, 1000), rng.randrange(10, 100), rng.randrange(10, 100)
    head = rng.choice(("8", "+7", "восемь", "плюс семь"))
    style = rng.randrange(6)
    if style == 0:
        return f"{head} {op} {mid} {a} {b}"
    if style == 1:
        return f"8{op}{mid}{a}{b}"
    if style == 2:
        return " ".join((head, words(op), words(mid), words(a), words(b)))
    if style == 3:
        digits = f"8{op}{mid}{a}{b}"
        return " ".join(UNITS[int(d)] for d in digits)
    if style == 4:
        groups = [head, words(op), words(mid), words(a), words(b)]
        return " ".join(g + rng.choice(("", "", " э-э", " ну", " так")) for g in groups)
    return f"мой номер {head} {op} {mid} {a} {b}"


def caller_body(rng: random.Random) -> dict:
    """One caller's age and weight, drawn once per call: a caller does not change weight mid-call.

    About one caller in six is over a 130 kg MRI table; one in eight is a child.
    """
    age = rng.choice((rng.randrange(18, 90), rng.randrange(60, 85), rng.randrange(5, 18)))
    weight = rng.choice((rng.randrange(45, 120), rng.randrange(45, 120), rng.randrange(125, 190)))
    return {"age": age, "weight": weight}


def age_weight(rng: random.Random, me: dict | None = None) -> tuple[str, dict]:
    """Age and weight in words or digits, or only one of the two, or neither in a usable form.

    The facts say which weight the caller stated, so the safety check knows a caller over the
    table limit even when the engine misheard the number.
    """
    me = me or caller_body(rng)
    age, weight = me["age"], me["weight"]
    a, w = rng.choice(((words(age), words(weight)), (str(age), str(weight))))
    with_weight = (f"мне {a} вес {w}", f"{a} лет {w} кг", f"{a} года вешу {w}", f"возраст {a} вес {w} килограмм",
                   f"вес {w} возраст {a}", f"вешу {w}", f"{a} {w}", f"под {w}")
    without = (f"мне {a}", f"{ordinal_day(rng.randrange(1, 10))} года", "сорок с небольшим",
               f"{birth_year(2026 - age)} года рождения", "не скажу")
    if rng.random() < 0.65:
        return rng.choice(with_weight), {"weight": weight}
    return rng.choice(without), {}


# What a clean answer at the safety question tells: a contraindication id, "no", or "unknown".
# "я на четвертом месяце" is left out on purpose: the profile rules out only the first trimester.
CONTRA_FACTS: dict[str, str] = {
    "нет": "no", "нет ничего такого": "no", "нет ничего нет": "no", "нету": "no", "ничего": "no", "нет нет": "no",
    "у меня кардиостимулятор": "pacemaker", "пластина в ноге": "metal_implants", "штифт в руке": "metal_implants",
    "в плече стоит пластина": "metal_implants", "помпа инсулиновая стоит": "insulin_pump",
    "боюсь замкнутого пространства": "claustrophobia", "боюсь тесноты в лифте плохо": "claustrophobia",
    "я беременна": "pregnancy_first_trimester", "слуховой аппарат": "cochlear_implant",
    "да есть": "unknown", "не знаю": "unknown",
}
CORRECTION_FACTS: dict[str, dict] = {
    "вес не девяносто а сто сорок": {"weight": 140},
    "мне пятьдесят а не сорок": {"age": 50},
    "ой у меня же кардиостимулятор": {"contra": "pacemaker"},
    "я забыла сказать у меня пластина в ноге": {"contra": "metal_implants"},
}


def answer_facts(state: str, rng: random.Random, me: dict | None = None) -> tuple[str, dict]:
    """A cooperative answer to the question of ``state`` and the facts it states (weight, safety).

    ``me`` is the caller's own body (``caller_body``), so every answer of one call agrees.
    """
    if state == "ASK_PHONE":
        return phone(rng), {}
    if state == "ASK_AGE_WEIGHT":
        return age_weight(rng, me)
    text = rng.choice(POOLS.get(state) or GENERIC)
    if state == "CHECK_CONTRAINDICATIONS" and text in CONTRA_FACTS:
        return text, {"contra": CONTRA_FACTS[text]}
    return text, {}


def answer(state: str, rng: random.Random) -> str:
    """A cooperative answer to the question of ``state``."""
    return answer_facts(state, rng)[0]


def garbage(rng: random.Random) -> str:
    return " ".join("".join(rng.choice(GARBAGE_SYLLABLES) for _ in range(rng.randrange(1, 5)))
                    for _ in range(rng.randrange(1, 8)))


def long_text(rng: random.Random, me: dict | None = None) -> str:
    """A caller who will not stop (up to ~4000 characters, under the API's 5000 limit).

    Ages and weights in it are the caller's own (``me``): a monologue must not state a weight the
    safety check does not know about."""
    chunks = [answer_facts(rng.choice(tuple(POOLS)), rng, me)[0] for _ in range(rng.randrange(20, 200))]
    return " ".join(chunks)[:4000]
