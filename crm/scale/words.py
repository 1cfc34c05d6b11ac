"""The words scale data is made of: the demo's texts, and name parts that combine into many names."""

import random

from customers.demo import MOBILE_PREFIXES, ORG_SUFFIXES_ZH, REGIONS
from followups.demo import CONVERSATIONS, RESULTS, TASKS
from followups.demo import OUTCOMES as DEMO_OUTCOMES
from opportunities.demo import BANT_NOTES as DEMO_BANT_NOTES
from opportunities.demo import LOST_REASONS, TITLES_EN, TITLES_ZH
from orders.demo import CARRIERS, CLOSE_REASONS

__all__ = ["CARRIERS", "CLOSE_REASONS", "LOST_REASONS", "MOBILE_PREFIXES", "REGIONS"]

CONVERSATIONS_ZH, CONVERSATIONS_EN = CONVERSATIONS["zh"], CONVERSATIONS["en"]
OUTCOMES = [*DEMO_OUTCOMES["zh"], *DEMO_OUTCOMES["en"]]
RESULTS_ZH, RESULTS_EN = RESULTS["zh"], RESULTS["en"]
TASKS_ZH, TASKS_EN = TASKS["zh"], TASKS["en"]
BANT_NOTES = [note for notes in DEMO_BANT_NOTES.values() for note in notes]
MAIL_DOMAINS = ["example.com", "example.cn", "example.net", "example.org"]

CITIES_ZH = [
    "上海",
    "北京",
    "广州",
    "深圳",
    "杭州",
    "成都",
    "南京",
    "苏州",
    "武汉",
    "重庆",
    "天津",
    "西安",
    "长沙",
    "青岛",
    "宁波",
    "无锡",
    "厦门",
    "合肥",
    "郑州",
    "济南",
]
WORDS_ZH = [
    "华",
    "信",
    "达",
    "通",
    "创",
    "恒",
    "盛",
    "瑞",
    "鑫",
    "宏",
    "泰",
    "博",
    "嘉",
    "德",
    "明",
    "新",
    "科",
    "联",
    "远",
    "安",
    "智",
    "汇",
    "正",
    "永",
    "天",
    "宇",
    "丰",
    "金",
    "源",
    "海",
]
SURNAMES_ZH = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "黄",
    "赵",
    "吴",
    "周",
    "徐",
    "孙",
    "马",
    "朱",
    "胡",
    "郭",
    "何",
    "高",
    "林",
    "罗",
    "郑",
    "梁",
    "谢",
    "宋",
    "唐",
]
GIVEN_ZH = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀",
    "霞",
    "平",
    "刚",
    "桂",
    "英",
    "华",
    "玲",
    "鹏",
    "辉",
    "琳",
    "婷",
    "浩",
]
WORDS_EN = [
    "Northern",
    "Pacific",
    "Summit",
    "Harbor",
    "Golden",
    "Silver",
    "Eastern",
    "Western",
    "Bright",
    "Apex",
    "Vertex",
    "Crystal",
    "Pioneer",
    "Sterling",
    "Evergreen",
    "Redwood",
    "Atlas",
    "Orion",
    "Meridian",
    "Horizon",
    "Liberty",
    "Keystone",
    "Falcon",
    "Cedar",
    "Granite",
    "Lakeside",
    "Riverside",
]
TRADES_EN = [
    "Industrial",
    "Automation",
    "Systems",
    "Logistics",
    "Engineering",
    "Electronics",
    "Trading",
    "Manufacturing",
    "Controls",
]
SUFFIXES_EN = ["Ltd", "Co.", "Inc.", "GmbH", "Pte Ltd", "Group"]
FIRST_EN = [
    "James",
    "Mary",
    "John",
    "Linda",
    "David",
    "Susan",
    "Michael",
    "Karen",
    "Robert",
    "Emma",
    "Daniel",
    "Olivia",
    "Thomas",
    "Sophie",
    "Peter",
]
LAST_EN = [
    "Smith",
    "Johnson",
    "Brown",
    "Taylor",
    "Miller",
    "Wilson",
    "Moore",
    "Clark",
    "Lewis",
    "Walker",
    "Hall",
    "Young",
    "King",
    "Wright",
    "Green",
]
STREETS_ZH = [
    "人民路",
    "中山路",
    "解放路",
    "建设路",
    "和平路",
    "长江路",
    "科技路",
    "高新大道",
    "工业园路",
    "滨江大道",
]
STREETS_EN = ["Harbour Road", "Queen Street", "Market Street", "Orchard Road", "King's Road", "Station Road"]


def company_name(rng: random.Random, chinese: bool) -> str:
    if chinese:
        return (
            rng.choice(CITIES_ZH) + rng.choice(WORDS_ZH) + rng.choice(WORDS_ZH) + rng.choice(ORG_SUFFIXES_ZH)
        )
    return f"{rng.choice(WORDS_EN)} {rng.choice(WORDS_EN)} {rng.choice(TRADES_EN)} {rng.choice(SUFFIXES_EN)}"


def person_name(rng: random.Random, chinese: bool) -> str:
    if chinese:
        return (
            rng.choice(SURNAMES_ZH)
            + rng.choice(GIVEN_ZH)
            + (rng.choice(GIVEN_ZH) if rng.random() < 0.6 else "")
        )
    return f"{rng.choice(FIRST_EN)} {rng.choice(LAST_EN)}"


def address(rng: random.Random, chinese: bool) -> str:
    if chinese:
        return f"{rng.choice(CITIES_ZH)}市{rng.choice(STREETS_ZH)}{rng.randint(1, 999)}号"
    return f"{rng.randint(1, 300)} {rng.choice(STREETS_EN)}, {rng.choice(REGIONS)}"


def deal_title(rng: random.Random, product: str) -> str:
    """A deal's title around its product, in the product name's language."""
    chinese = any("\u4e00" <= character <= "\u9fff" for character in product)
    return rng.choice(TITLES_ZH if chinese else TITLES_EN).format(product=product)[:200]
