"""Words that name no trade in a course request, per language: "in", "в", "da", "курсы", "kurs",
question words, greetings, "please", "free", who the course is for. What a short course request
says besides these and its city is the trade it asks for (`Vocabulary.unknown_trade`).

Written as people type them (Latin spellings of Russian, Kazakh, Kyrgyz and Tajik included) and
compared folded (`bot.nlp.normalize.fold`), so "ҳаст" and "хаст", "o'qish" and "oqish" are one word.
"""

from __future__ import annotations

from bot.nlp.normalize import fold

FILLER = {
    "en": """
        in at on of for to from near the a an and or any some is are there do does you have has what whats
        which where when how study studies learn learning school program programme programs info information
        about offer job jobs work please pls plz hi hello hey thanks thank i im me my we us want need
        looking find show list tell free city town region available anything something can could get your
        one now new here centre center women men kids children youth son daughter wife husband live lives
        living also too
    """,
    "ru": """
        в во на по для с со у и а или ли же есть нет могу ваши какие какой какая какое каких что где когда
        как сколько учёба учиться научиться выучиться учат хочу хотел хотела хотим нужно нужны нужен надо
        можно ищу подскажите скажите покажите пожалуйста здравствуйте привет добрый день салам спасибо город
        городе области там тут сейчас мне нам я мы вас бывают вообще ещё тоже то нибудь либо женщин сына
        дочки мужа живу живём из про насчёт около рядом ну вот v vo na po dlya est kakie kakoy chto gde
        kogda hochu nado mozhno pozhaluysta zdravstvuyte privet
    """,
    "uz": """
        da va uchun bilan bor bormi bormikan yo'qmi qanday qanaqa qanaqangi qaysi nima nimalar qayerda
        qachon qancha o'qish o'qishga o'rganish ta'lim kerak istayman xohlayman mumkin iltimos salom
        assalomu alaykum assalomualaykum rahmat shahar shaharda viloyat viloyati ham endi menga bizga men
        biz hozir yangi ayollar erkaklar o'g'lim qizim ekan edi chi haqida yashayman bo'yicha biror sizning
        o'zbekcha ruscha
    """,
    "uz-Cyrl": """
        да ва учун билан бор борми бормикан йўқми қандай қанақа қайси нима нималар қаерда қачон қанча ўқиш
        ўқишга таълим керак истайман хоҳлайман мумкин илтимос салом ассалому алайкум ассаломуалайкум раҳмат
        шаҳар шаҳарда вилоят вилояти ҳам энди менга бизга мен биз ҳозир янги аёллар эркаклар ўғлим қизим
        экан эди чи ҳақида яшайман бўйича бирор сизнинг ўзбекча русча
    """,
    "kk": """
        бар ма ме ба бе па пе барма бола жоқ бір сіздің қазақша орысша қандай қай қайсы не қайда қашан қанша
        оқу оқуға оқығым үйренгім керек қалаймын болады өтінемін сәлем сәлеметсіз сәлеметсізбе
        ассалаумағалейкум рақмет қала қалада қаласында облысы бойынша үшін маған бізге мен және да де та те
        әйелдерге екен еді ше шы ғой туралы жайлы тұрамын bar ma kandai qandai tegin salem
    """,
    "ky": """
        бар барбы бы би бу бү кандай кайсы эмне эмнелер кайда качан канча окуу окууга үйрөнүү керек каалайм
        болобу суранам салам саламатсызбы ассалоому алейкум рахмат бекер шаар шаарда шаарында облусу боюнча
        үчүн мага бизге мен жана да дагы аялдар экен эле чи го жөнүндө тууралуу жашайм бир силердин сиздин
        кыргызча орусча barby akysyz
    """,
    "tg": """
        дар ба барои бо ва ҳаст ҳастанд дорад доранд мавҷуд хондан мехонам шумо кадом чӣ чи куҷо кай чанд
        лозим даркор мехоҳам мумкин лутфан салом ассалому алайкум ташаккур шаҳр шаҳри вилояти ман мо ҳам
        ягон занҳо аз бораи ки зиндагӣ мекунам ҳастам мебошам dar hast kadom chi
    """,
}

#: Beginnings of filler words that inflect: курсы, kursi, курстар, курсҳо, профессий, бесплатное,
#: бормикин, o'rgatishadi.
STEMS = {
    "en": "cours class train lesson vocation profession opportunit skill possib option",
    "ru": "курс kurs обуч obuch учеб професси profess бесплатн besplatn заняти программ",
    "uz": (
        "kurs kasb hunar bepul ayollar bormi bormik bormid o'rgat o'rgan o'qit o'qis ochil bilmaysiz bo'ladi "
        "mumkin shahr"
    ),
    "uz-Cyrl": (
        "курс касб ҳунар бепул аёллар борми бормик бормид ўргат ўрган ўқит ўқис очил билмайсиз бўлади мумкин "
        "шаҳр"
    ),
    "kk": "курс мамандық кәсіп тегін оқыт үйрен болад әйелдер",
    "ky": "курс кесип акысыз окут үйрөн болоб аялдар",
    "tg": "курс kurs касб омӯз меомӯз бепул таҳсил метавон мешава шаҳр",
}

_WORDS = {fold(word) for words in FILLER.values() for word in words.split()}
_STEMS = tuple(sorted({fold(stem) for stems in STEMS.values() for stem in stems.split()}))


def is_filler(word: str) -> bool:
    """True if the folded `word` (each part of kasb-hunar, что-то) names no trade in any language."""
    return all(part in _WORDS or part.startswith(_STEMS) for part in word.split("-"))
