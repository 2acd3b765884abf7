"""Word lists and value makers behind the emulator's realistic (clean) values."""

from __future__ import annotations

import random
from datetime import datetime, timedelta, timezone

CATEGORIES = ["art", "beauty", "christmas", "diy-and-crafts", "education", "event-planning", "finance",
              "home-decor", "mens-fashion", "quotes", "tattoos", "travel", "vehicles"]

# (country, centre latitude, centre longitude, spread in degrees)
COUNTRIES = [
    ("United States", 39.8, -98.6, 8.0), ("United Kingdom", 54.0, -2.0, 2.0), ("India", 21.0, 78.0, 5.0),
    ("Brazil", -10.0, -52.0, 7.0), ("Germany", 51.0, 10.0, 2.0), ("France", 46.5, 2.5, 2.0),
    ("Canada", 56.0, -106.0, 8.0), ("Australia", -25.0, 134.0, 7.0), ("Japan", 36.0, 138.0, 3.0),
    ("Mexico", 23.0, -102.0, 4.0), ("Nigeria", 9.0, 8.0, 3.0), ("South Africa", -29.0, 24.0, 3.0),
    ("Indonesia", -2.0, 118.0, 5.0), ("Argentina", -34.0, -64.0, 5.0), ("Italy", 42.8, 12.5, 2.0),
    ("Spain", 40.2, -3.7, 2.0), ("Philippines", 12.8, 121.8, 3.0), ("Egypt", 26.8, 30.8, 2.0),
    ("Antarctica (the)", -82.0, 0.0, 5.0), ("Fiji", -17.8, 178.0, 1.5), ("Chile", -33.4, -70.6, 3.0),
]
FIRST_NAMES = ["Alexander", "Amy", "Andrea", "Bryan", "Charles", "Christopher", "Daniel", "David", "Denise",
               "Elizabeth", "Emily", "Gina", "Isaac", "James", "Jennifer", "Joseph", "Kimberly", "Laura",
               "Linda", "Michael", "Michelle", "Nicholas", "Rachel", "Robert", "Sarah", "Stephanie",
               "Thomas", "Tyler", "Victoria", "Zoe", "José", "Aïsha", "Nguyễn", "O'Brien"]
LAST_NAMES = ["Allen", "Anderson", "Brown", "Clark", "Davis", "Garcia", "Harris", "Jackson", "Johnson",
              "Jones", "Lee", "Lewis", "Martin", "Martinez", "Miller", "Moore", "Robinson", "Rodriguez",
              "Smith", "Taylor", "Thomas", "Thompson", "Walker", "White", "Williams", "Wilson", "Young",
              "Müller", "García-López", "D'Angelo"]
_TOPICS = {
    "art": ["watercolor", "painting", "sketch", "portrait", "abstract", "canvas"],
    "beauty": ["makeup", "skincare", "nails", "hairstyle", "lipstick", "routine"],
    "christmas": ["ornaments", "wreath", "gift", "cookies", "tree", "stocking"],
    "diy-and-crafts": ["crochet", "paper", "upcycle", "macrame", "candle", "woodwork"],
    "education": ["classroom", "worksheet", "reading", "math", "science", "homeschool"],
    "event-planning": ["wedding", "birthday", "party", "decor", "invitation", "venue"],
    "finance": ["budget", "saving", "investing", "debt", "frugal", "money"],
    "home-decor": ["living room", "kitchen", "bedroom", "shelf", "rug", "lighting"],
    "mens-fashion": ["suit", "sneakers", "watch", "streetwear", "beard", "jacket"],
    "quotes": ["motivation", "love", "life", "success", "funny", "wisdom"],
    "tattoos": ["sleeve", "minimalist", "floral", "script", "geometric", "small"],
    "travel": ["beach", "mountains", "city break", "road trip", "itinerary", "hidden gems"],
    "vehicles": ["classic car", "motorcycle", "truck", "restoration", "electric", "camper"],
}
_ADJECTIVES = ["Easy", "Simple", "Beautiful", "Best", "Cozy", "Modern", "Vintage", "Cheap", "Quick", "Stunning"]
_BRANDS = ["Studio", "Ideas", "Daily", "Co.", "Life", "Collective", "Hub", "Blog", "Magazine", "Crafts"]
MALFORMED_DATES = ["2019-13-45 25:61:00", "yesterday", "08/09/2018 10:00", "2020-02-30T10:00:00",
                   "not a date", "1554652800"]


def _topics(category: str) -> list[str]:
    return _TOPICS.get(category.strip().lower(), ["ideas", "inspiration", "photos"])


def title(rng: random.Random, category: str) -> str:
    """A pin title such as 'Easy watercolor Ideas for 2019'."""
    return f"{rng.choice(_ADJECTIVES)} {rng.choice(_topics(category))} ideas for {rng.randint(2015, 2022)}"


def description(rng: random.Random, category: str) -> str:
    """A one-sentence pin description."""
    first, second = rng.sample(_topics(category), 2)
    return f"{rng.randint(5, 60)} {first} and {second} ideas you will love. Save this pin for later!"


def poster(rng: random.Random) -> str:
    """A poster name: a person or a small brand."""
    if rng.random() < 0.5:
        return f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
    return f"{rng.choice(_ADJECTIVES)} {rng.choice(_BRANDS)}"


def follower_number(rng: random.Random) -> int:
    """A follower count, heavy-tailed like real ones."""
    return int(rng.lognormvariate(8.0, 2.2))


def follower_count(rng: random.Random) -> str:
    """The count as Pinterest shows it: '731', '8k', '12.5k', '1.2M'."""
    n = follower_number(rng)
    if n < 1000:
        return str(n)
    if n < 1_000_000:
        return f"{round(n / 1000, 1 if n < 10_000 else 0):g}k"
    return f"{round(n / 1_000_000, 1):g}M"


def tags(rng: random.Random, category: str) -> list[str]:
    """A few tags of the category."""
    return rng.sample(_topics(category), rng.randint(2, 5))


def image_url(rng: random.Random) -> str:
    """A pinimg-style image URL."""
    digest = f"{rng.getrandbits(128):032x}"
    return f"https://i.pinimg.com/originals/{digest[:2]}/{digest[2:4]}/{digest[4:6]}/{digest}.jpg"


def age(rng: random.Random) -> int:
    """A user's age, mostly adults, a few teenagers."""
    return rng.randint(13, 17) if rng.random() < 0.05 else max(18, min(90, int(rng.gauss(34, 12))))


def random_moment(rng: random.Random, first_year: int, last_year: int) -> datetime:
    """A UTC moment, to the second, within the years given."""
    start = datetime(first_year, 1, 1, tzinfo=timezone.utc)
    span = (datetime(last_year + 1, 1, 1, tzinfo=timezone.utc) - start).total_seconds()
    return start + timedelta(seconds=int(rng.random() * span))


def format_moment(rng: random.Random, moment: datetime) -> str:
    """The moment in one of the ISO-8601 spellings the contract accepts (mostly the original's)."""
    roll = rng.random()
    if roll < 0.80:
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    if roll < 0.88:
        return moment.strftime("%Y-%m-%dT%H:%M:%S")
    if roll < 0.94:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    local = moment.astimezone(timezone(timedelta(hours=rng.choice([-5, 1, 2, 5.5, 9]))))
    return local.strftime("%Y-%m-%dT%H:%M:%S.") + f"{rng.randint(0, 999):03d}" + local.strftime("%z")[:3] + ":" \
        + local.strftime("%z")[3:]


def malformed_date(rng: random.Random) -> str:
    """A date-time silver cannot parse."""
    return rng.choice(MALFORMED_DATES)
