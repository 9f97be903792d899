"""The corpus's phrasings, second half: age and weight, yes / no, contraindications, questions back.

Same conventions as ``corpus_phrases``: groups of items sharing one label, frames around them.
A yes/no item names the states where it is a natural answer; a question back names the profile
FAQ ids it must be answered with (``also``: ids that may be answered too without harm).
"""

from __future__ import annotations

from tests.support.corpus_phrases import ANY_YN, CONFIRMS, OPTIONAL

Y, N = "yes", "no"

# -- age and weight (ASK_AGE_WEIGHT, an MRI chosen, so the weight is asked) -----------------------------
AGE_FRAMES = ("{x}", "{f} {x}", "{x} если что", "так {x}", "{x} вот", "ну {x}", "{x} а что", "{x} записывайте")
AGE_GROUPS = [
    [("{aw} лет {ww} килограмм", {"age": "{A}", "weight": "{W}"}), ("мне {aw} вес {ww}", {"age": "{A}", "weight": "{W}"}),
     ("{aw} и {ww}", {"age": "{A}", "weight": "{W}"}), ("возраст {aw} вес {ww} кило", {"age": "{A}", "weight": "{W}"})],
    [("{A} лет {W} кг", {"age": "{A}", "weight": "{W}"}), ("мне {A} вешу {W}", {"age": "{A}", "weight": "{W}"}),
     ("{A} {W}", {"age": "{A}", "weight": "{W}"}), ("{A} лет и {W} килограммов", {"age": "{A}", "weight": "{W}"})],
    [("вешу {ww} а лет мне {aw}", {"age": "{A}", "weight": "{W}"}), ("вес {W} возраст {A}", {"age": "{A}", "weight": "{W}"}),
     ("вес где-то {ww} а лет {aw}", {"age": "{A}", "weight": "{W}"})],
    [("{aw} лет", {"age": "{A}"}), ("мне {aw}", {"age": "{A}"}), ("{A} лет мне", {"age": "{A}"}),
     ("мне уже {aw} исполнилось", {"age": "{A}"})],
    [("вешу {ww} килограмм", {"weight": "{W}"}), ("вес {W} кг", {"weight": "{W}"}), ("вес у меня {ww}", {"weight": "{W}"})],
    [("{yw} года рождения", {"age": ["{YA}", "{YB}"]}), ("я {yw} года", {"age": ["{YA}", "{YB}"]}),
     ("с {yw} года я", {"age": ["{YA}", "{YB}"]}), ("родилась в {Y} году", {"age": ["{YA}", "{YB}"]}),
     ("{Y} года рождения", {"age": ["{YA}", "{YB}"]})],
    [("{yw} года рождения вешу {ww}", {"age": ["{YA}", "{YB}"], "weight": "{W}"}),
     ("я с {yw} года вес {W}", {"age": ["{YA}", "{YB}"], "weight": "{W}"})],
    [("сорок с небольшим", {}), ("пятьдесят с хвостиком", {}), ("за шестьдесят уже", {}),
     ("лет сорок с небольшим а вес не скажу", {}), ("шестьдесят с лишним", {})],
    [("{aw} ой нет {aw2}", {"age": "{A2}"}), ("мне {aw} вес {ww} нет вру {ww2}", {"age": "{A}", "weight": "{W2}"}),
     ("{A} нет {A2} уже", {"age": "{A2}"})],
]

# -- yes / no -------------------------------------------------------------------------------------------
YES_NO_FRAMES = ("{x}", "{f} {x}", "{x} девушка", "ой {x}", "хм {x}", "ну {x}", "{x} {f}")
VISITED = ("ASK_VISITED_DOCTOR",)
DISCOUNTS = ("CHECK_DISCOUNTS",)
YES_NO_GROUPS = [
    [("да", Y, ANY_YN), ("да да", Y, ANY_YN), ("ага", Y, ANY_YN), ("угу", Y, ANY_YN)],
    [("конечно", Y, ANY_YN), ("конечно да", Y, ANY_YN), ("ну конечно", Y, ANY_YN)],
    [("давайте", Y, CONFIRMS + OPTIONAL), ("да давайте", Y, CONFIRMS + OPTIONAL), ("давай", Y, CONFIRMS + OPTIONAL)],
    [("хорошо", Y, CONFIRMS + OPTIONAL), ("хорошо давайте", Y, CONFIRMS + OPTIONAL), ("ладно", Y, CONFIRMS + OPTIONAL)],
    [("ну можно", Y, OPTIONAL + CONFIRMS), ("можно", Y, OPTIONAL), ("можно да", Y, OPTIONAL)],
    [("пожалуй да", Y, ANY_YN), ("да пожалуй", Y, ANY_YN)],
    [("согласна", Y, CONFIRMS), ("я согласен", Y, CONFIRMS), ("согласен да", Y, CONFIRMS)],
    [("записывайте", Y, CONFIRMS), ("да записывайте", Y, CONFIRMS), ("записывайте конечно", Y, CONFIRMS)],
    [("подходит", Y, ("CONFIRM_TIME", "CONFIRM_APPOINTMENT")), ("да подходит", Y, ("CONFIRM_TIME",)),
     ("вполне подходит", Y, ("CONFIRM_TIME",))],
    [("все верно", Y, ("CONFIRM_APPOINTMENT",)), ("да все правильно", Y, ("CONFIRM_APPOINTMENT",)),
     ("да верно", Y, ("CONFIRM_APPOINTMENT", "CONFIRM_TIME"))],
    [("нужно", Y, OPTIONAL[:2]), ("да нужно", Y, OPTIONAL[:2]), ("надо конечно", Y, OPTIONAL[:2])],
    [("был", Y, VISITED), ("да был у невролога", Y, VISITED), ("ходила к терапевту", Y, VISITED),
     ("да врач направил", Y, VISITED), ("была у ортопеда на прошлой неделе", Y, VISITED)],
    [("ну да", Y, ANY_YN), ("да наверное", Y, ANY_YN), ("естественно", Y, ANY_YN), ("безусловно", Y, ANY_YN)],
    [("окей", Y, CONFIRMS + OPTIONAL), ("ок давайте", Y, CONFIRMS + OPTIONAL)],
    [("нет", N, ANY_YN + DISCOUNTS), ("нет нет", N, ANY_YN + DISCOUNTS), ("неа", N, ANY_YN + DISCOUNTS)],
    [("не-не", N, ANY_YN + DISCOUNTS), ("не не не", N, ANY_YN + DISCOUNTS), ("не-не-не", N, ANY_YN + DISCOUNTS)],
    [("пожалуй нет", N, ANY_YN), ("нет пожалуй", N, ANY_YN), ("пожалуй что нет", N, ANY_YN)],
    [("да не надо", N, OPTIONAL), ("да нет не надо", N, OPTIONAL), ("да ну не надо", N, OPTIONAL)],
    [("давайте без этого", N, OPTIONAL[:2]), ("без этого давайте", N, OPTIONAL[:2]),
     ("давайте без него", N, OPTIONAL[:2])],
    [("нет спасибо", N, OPTIONAL), ("спасибо не надо", N, OPTIONAL), ("не нужно спасибо", N, OPTIONAL)],
    [("не нужно", N, OPTIONAL[:2]), ("не надо", N, OPTIONAL[:2]), ("ненадо", N, OPTIONAL[:2])],
    [("не хочу", N, OPTIONAL), ("не хочется", N, OPTIONAL)],
    [("наверное нет", N, ANY_YN), ("скорее нет", N, ANY_YN)],
    [("обойдусь", N, OPTIONAL[:2]), ("обойдусь без этого", N, OPTIONAL[:2])],
    [("не подходит", N, ("CONFIRM_TIME",)), ("нет не подходит", N, ("CONFIRM_TIME",)),
     ("нет это неудобно", N, ("CONFIRM_TIME",))],
    [("не был", N, VISITED), ("нет не ходил", N, VISITED), ("к врачу не ходила", N, VISITED),
     ("нет сам решил", N, VISITED), ("нет я сама решила проверить", N, VISITED)],
    [("нет скидок нету", N, DISCOUNTS), ("никаких льгот нет", N, DISCOUNTS), ("нет я не пенсионер", N, DISCOUNTS)],
    [("не стоит", N, OPTIONAL[:2]), ("не думаю", N, OPTIONAL)],
]

# -- contraindications (CHECK_CONTRAINDICATIONS before an MRI) ----------------------------------------
PM, MI, IP, CI, PR, CL = ("pacemaker", "metal_implants", "insulin_pump", "cochlear_implant",
                          "pregnancy_first_trimester", "claustrophobia")
CONTRA_FRAMES = ("{x}", "{f} {x}", "{x} вот", "ой {x}", "так {x}", "{x} это важно", "{x} {f}")
CONTRA_GROUPS = [
    [("у меня кардиостимулятор", [PM], None), ("кардиостимулятор стоит", [PM], None),
     ("стоит стимулятор сердечный", [PM], None), ("у меня водитель ритма", [PM], None)],
    [("мне поставили кардиостимулятор в прошлом году", [PM], None), ("с кардиостимулятором я", [PM], None)],
    [("пластина в ноге", [MI], None), ("в плече стоит пластина", [MI], None),
     ("после перелома пластину поставили", [MI], None)],
    [("штифт в бедре", [MI], None), ("спицы в руке стоят", [MI], None)],
    [("эндопротез тазобедренного сустава", [MI], None), ("протез коленного сустава стоит", [MI], None)],
    [("осколок остался с армии", [MI], None), ("в спине металлоконструкция", [MI], None),
     ("клипсы на сосудах после операции", [MI], None)],
    [("инсулиновая помпа", [IP], None), ("у меня помпа", [IP], None), ("диабет у меня на помпе", [IP], None)],
    [("кохлеарный имплант", [CI], None), ("слуховой имплант стоит", [CI], None)],
    [("я беременна", [PR], None), ("беременность восемь недель", [PR], None)],
    [("я на четвертом месяце", [PR], None), ("на втором месяце я", [PR], None), ("я в положении", [PR], None)],
    [("я жду ребенка", [PR], None), ("мы ждем малыша", [PR], None)],
    [("боюсь замкнутого пространства", [CL], None), ("клаустрофобия у меня", [CL], None)],
    [("боюсь тесноты в лифте плохо", [CL], None), ("в лифте мне плохо становится", [CL], None),
     ("в тесноте паникую", [CL], None)],
    [("в трубе паника начинается", [CL], None), ("боюсь закрытых помещений", [CL], None)],
    [("кардиостимулятор и еще пластина в руке", [PM, MI], None), ("стимулятор стоит и штифт в ноге", [PM, MI], None)],
    [("пластина в ноге и я беременна", [MI, PR], None), ("я беременна и спицы в руке", [MI, PR], None)],
    [("у меня нет кардиостимулятора но есть пластина", [MI], None),
     ("стимулятора нет а вот штифт в бедре есть", [MI], None)],
    [("нет", [], N), ("нету ничего", [], N), ("ничего такого нет", [], N)],
    [("нет ничего из этого", [], N), ("ничего из перечисленного", [], N)],
    [("не беременна металла нет", [], N), ("металла нет не беременна", [], N)],
    [("нет ни пластин ни стимулятора", [], N), ("никаких имплантов нет", [], N)],
    [("кардиостимулятора нет", [], N), ("помпы нет", [], N)],
    [("нет я здорова", [], N), ("все нормально ничего нет", [], N)],
    [("не-не ничего", [], N), ("неа ничего", [], N)],
    [("замкнутого пространства не боюсь", [], N), ("не боюсь я тесноты", [], N)],
    [("была пластина но ее сняли", [], None), ("пластину уже удалили", [], None)],
]

# -- questions back (off-script) ----------------------------------------------------------------------
OFF_FRAMES = ("{x}", "{f} {x}", "извините {x}", "девушка {x}", "подскажите {x}", "{x} подскажите", "а вот {x}",
              "слушайте {x}", "{x} а то я не знаю")
OFF_GROUPS = [  # (text, faq ids, also acceptable, answer, asks for a person)
    [("а картой можно", ["payment"], [], None, False), ("картой можно оплатить", ["payment"], [], None, False),
     ("а оплата картой есть", ["payment"], [], None, False)],
    [("можно наличными", ["payment"], [], None, False), ("наличкой можно заплатить", ["payment"], [], None, False),
     ("а по дмс можно", ["payment"], [], None, False)],
    [("а по омс можно", ["oms"], ["payment"], None, False), ("по полису омс примете", ["oms"], ["payment"], None, False),
     ("а бесплатно по полису нельзя", ["oms"], ["payment"], None, False)],
    [("как к вам доехать от метро", ["address"], [], None, False), ("а где вы находитесь", ["address"], [], None, False),
     ("какой у вас адрес", ["address"], [], None, False)],
    [("как до вас добраться", ["address"], [], None, False), ("от какого метро идти", ["address"], [], None, False)],
    [("а парковка есть", ["parking"], [], None, False), ("где машину поставить", ["parking"], [], None, False),
     ("можно будет припарковаться", ["parking"], [], None, False)],
    [("это живой человек", ["robot"], [], None, False), ("я с роботом говорю", ["robot"], [], None, False),
     ("вы робот что ли", ["robot"], [], None, False)],
    [("это автоответчик", ["robot"], [], None, False), ("ты нейросеть", ["robot"], [], None, False)],
    [("до скольки вы работаете", ["hours"], [], None, False), ("какой у вас график работы", ["hours"], [], None, False),
     ("а в выходные работаете", ["hours"], [], None, False)],
    [("сколько стоит", ["price"], [], None, False), ("а почем", ["price"], [], None, False),
     ("какая цена", ["price"], [], None, False)],
    [("сколько это будет стоить", ["price"], [], None, False), ("а по деньгам сколько", ["price"], [], None, False)],
    [("что с собой взять", ["documents"], [], None, False), ("какие документы нужны", ["documents"], [], None, False),
     ("паспорт нужен", ["documents"], [], None, False)],
    [("направление нужно", ["documents"], [], None, False), ("а без направления можно", ["documents"], [], None, False)],
    [("когда будет результат", ["results"], [], None, False), ("заключение когда дадут", ["results"], [], None, False),
     ("сколько ждать результат", ["results"], [], None, False)],
    [("сколько длится", ["duration"], [], None, False), ("а долго это по времени", ["duration"], [], None, False),
     ("как долго идет исследование", ["duration"], [], None, False)],
    [("как подготовиться", ["preparation"], [], None, False), ("натощак надо", ["preparation"], [], None, False),
     ("а кушать перед этим можно", ["preparation"], [], None, False)],
    [("скидки есть", ["discounts"], [], None, False), ("а акции какие-нибудь есть", ["discounts"], [], None, False)],
    [("соедините с администратором", [], [], None, True), ("можно с живым человеком поговорить", [], [], None, True),
     ("позовите оператора", [], [], None, True)],
    [("да а картой можно будет", ["payment"], [], Y, False), ("хорошо а где вы находитесь", ["address"], [], Y, False)],
]
