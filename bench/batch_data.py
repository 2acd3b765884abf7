"""Bronze tables for bench/batch.py, generated directly with Spark (not timed).

Postings are numbered; posting `n` yields a pin, a geo and a user event (in three topics),
in partition `n % 3` at offset `n // 3`, Kafka time growing with `n`. The JSON text is built
by string concatenation so that a field can be a number in one record and a string in
another, as in real traffic. Dirty values come at rates close to the emulator's: placeholders,
`8k`/`1.2M`/integer follower counts, upper-case UUIDs, every date-time form, out-of-range
values, malformed JSON, and newer versions of earlier entities.
"""

from __future__ import annotations

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from lakehouse import tables
from lakehouse.bronze.schema import EVENT_TABLES
from pinlake.settings import TOPICS

TOPIC = TOPICS
START_SECONDS = 1_577_836_800  # 2020-01-01T00:00:00Z
CATEGORIES = ["art", "beauty", "christmas", "diy-and-crafts", "education", "event-planning", "finance",
              "home-decor", "mens-fashion", "quotes", "tattoos", "travel", "vehicles"]
COUNTRIES = ["Afghanistan", "Albania", "Algeria", "Andorra", "Angola", "Argentina", "Armenia", "Australia",
             "Austria", "Bahamas", "Bangladesh", "Belgium", "Brazil", "Canada", "Chile", "China", "Denmark",
             "Egypt", "France", "Germany", "India", "Italy", "Japan", "Mexico", "Norway", "Peru", "Spain",
             "Sweden", "United Kingdom", "United States"]


def _r(n: Column, salt: int) -> Column:
    """A uniform pseudo-random number in [0, 1) from posting `n` and a salt (deterministic)."""
    return F.abs(F.xxhash64(n, F.lit(salt)) % 1_000_000).cast("double") / 1_000_000


def _pick(values: list[str], n: Column, salt: int) -> Column:
    return F.element_at(F.array(*[F.lit(v) for v in values]), (_r(n, salt) * len(values)).cast("int") + 1)


def _q(text: Column) -> Column:
    """A JSON string literal (the generated texts hold no quotes or backslashes)."""
    return F.concat(F.lit('"'), text, F.lit('"'))


def _field(name: str, json_value: Column) -> Column:
    return F.concat(F.lit(f'"{name}":'), F.coalesce(json_value, F.lit("null")))


def _object(*fields: Column) -> Column:
    return F.concat(F.lit("{"), F.concat_ws(",", *fields), F.lit("}"))


def _uuid(entity: Column) -> Column:
    h = F.md5(entity.cast("string"))
    return F.concat_ws("-", h.substr(1, 8), h.substr(9, 4), h.substr(13, 4), h.substr(17, 4), h.substr(21, 12))


def _pin(n: Column, e: Column) -> Column:
    r = lambda salt: _r(n, salt)  # noqa: E731
    category = _pick(CATEGORIES, e, 1)
    uid = _uuid(e)
    followers = (
        F.when(r(2) < 0.02, _q(F.lit("User Info Error")))
        .when(r(2) < 0.024, _q(F.lit("-12")))
        .when(r(2) < 0.17, (r(3) * 900).cast("int").cast("string"))
        .when(r(2) < 0.6, _q(F.concat(F.format_number(r(3) * 99, 1), F.lit("k"))))
        .when(r(2) < 0.7, _q(F.concat(F.format_number(r(3) * 9, 1), F.lit("M"))))
        .otherwise(_q((r(3) * 999).cast("int").cast("string")))
    )
    return _object(
        _field("index", F.when(r(4) < 0.002, F.lit("-1")).otherwise(e.cast("string"))),
        _field("unique_id", _q(F.when(r(5) < 0.003, F.lit("not-a-uuid"))
                               .when(r(5) < 0.03, F.upper(uid)).otherwise(uid))),
        _field("title", _q(F.when(r(6) < 0.05, F.lit("No Title Data Available"))
                           .otherwise(F.concat(F.lit("Ideas for "), category, F.lit(" number "), e)))),
        _field("description", _q(F.when(r(7) < 0.02, F.lit("No description available Story format"))
                                 .otherwise(F.lit("Save this pin for later, you will love it")))),
        _field("poster_name", _q(F.when(r(2) < 0.02, F.lit("User Info Error"))
                                 .otherwise(F.concat(F.lit("Poster "), (e % 50_000).cast("string"))))),
        _field("follower_count", followers),
        _field("tag_list", _q(F.when(r(8) < 0.04, F.lit("N,o, ,T,a,g,s, ,A,v,a,i,l,a,b,l,e"))
                              .when(r(8) < 0.07, F.concat(F.lit(" ideas, ,"), category, F.lit(" ,")))
                              .otherwise(F.concat(F.lit("ideas,"), category, F.lit(",home"))))),
        _field("is_image_or_video", _q(F.when(r(9) < 0.003, F.lit("gif")).when(r(9) < 0.06, F.lit(
            "multi-video(story page format)")).when(r(9) < 0.15, F.lit("video")).otherwise(F.lit("image")))),
        _field("image_src", _q(F.when(r(10) < 0.03, F.lit("Image src error."))
                               .otherwise(F.concat(F.lit("https://i.pinimg.com/originals/"), uid, F.lit(".jpg"))))),
        _field("downloaded", F.when(r(11) < 0.003, F.lit("2")).when(r(11) < 0.1, F.lit("0")).otherwise(F.lit("1"))),
        _field("save_location", _q(F.concat(F.lit("Local save in /data/"), category))),
        _field("category", _q(F.when(r(12) < 0.04, F.initcap(category)).otherwise(category))),
    )


def _moment(n: Column, salt: int, first_year: int, years: int) -> Column:
    seconds = F.lit(1_420_070_400 + (first_year - 2015) * 31_557_600) + (_r(n, salt) * years * 31_557_600).cast("long")
    return F.timestamp_seconds(seconds)


def _date_time(n: Column, at: Column, salt: int) -> Column:
    form = _r(n, salt)
    return (
        F.when(form < 0.01, F.lit("sometime in spring"))
        .when(form < 0.2, F.date_format(at, "yyyy-MM-dd'T'HH:mm:ss'Z'"))
        .when(form < 0.3, F.concat(F.date_format(at + F.expr("INTERVAL 2 HOURS"), "yyyy-MM-dd'T'HH:mm:ss"),
                                   F.lit("+02:00")))
        .when(form < 0.4, F.date_format(at, "yyyy-MM-dd HH:mm:ss.SSS"))
        .otherwise(F.date_format(at, "yyyy-MM-dd HH:mm:ss"))
    )


def _geo(n: Column, e: Column) -> Column:
    r = lambda salt: _r(n, salt)  # noqa: E731
    lat = F.when(r(21) < 0.005, F.lit(123.4)).otherwise(F.round(r(22) * 180 - 90, 6))
    lon = F.when(r(23) < 0.005, F.lit(-200.5)).otherwise(F.round(r(24) * 360 - 180, 6))
    return _object(
        _field("ind", F.when(r(4) < 0.002, F.lit("-1")).otherwise(e.cast("string"))),
        _field("timestamp", _q(_date_time(n, _moment(e, 25, 2018, 5), 26))),
        _field("latitude", lat.cast("string")),
        _field("longitude", lon.cast("string")),
        _field("country", _q(_pick(COUNTRIES, e, 27))),
    )


def _user(n: Column, e: Column) -> Column:
    r = lambda salt: _r(n, salt)  # noqa: E731
    age = F.when(r(31) < 0.005, F.lit("150")).when(r(31) < 0.015, F.lit(None)) \
        .otherwise((F.lit(10) + r(32) * 70).cast("int").cast("string"))
    return _object(
        _field("ind", F.when(r(4) < 0.002, F.lit("-1")).otherwise(e.cast("string"))),
        _field("first_name", _q(_pick(["Ann", "Bob", "Chen", "Dara", "Eve", "Femi", "Gus", "Hana"], e, 33))),
        _field("last_name", F.when(r(34) < 0.02, F.lit(None)).otherwise(_q(_pick(["Lee", "Diaz", "Khan", "Olsen"], e, 35)))),
        _field("age", age),
        _field("date_joined", _q(_date_time(n, _moment(e, 36, 2015, 7), 37))),
    )


def events(spark: SparkSession, kind: str, first: int, count: int) -> DataFrame:
    """Bronze rows of one topic for postings `first .. first + count - 1`."""
    n = F.col("id")
    # 3% of postings carry a newer version of an earlier entity instead of a new one
    back = (_r(n, 41) * 1000).cast("long") + 1
    entity = F.when((_r(n, 40) < 0.03) & (n > back), n - back).otherwise(n)
    value = {"pin": _pin, "geo": _geo, "user": _user}[kind](n, F.col("entity"))
    value = F.when(_r(n, 42) < 0.001, F.lit("{not json")).otherwise(value)
    at = F.timestamp_seconds(F.lit(START_SECONDS) + n / 10)
    key = F.when(F.lit(kind == "pin"), _uuid(F.col("entity"))).otherwise(F.col("entity").cast("string"))
    return (
        spark.range(first, first + count)
        .withColumn("entity", entity)
        .select(
            F.md5(F.concat(F.lit(kind), n.cast("string"))).alias("event_id"),
            at.alias("received_at"), key.alias("key"), value.alias("value"),
            F.lit(TOPIC[kind]).alias("topic"), (n % 3).cast("int").alias("partition"),
            (n / 3).cast("long").alias("offset"), at.alias("kafka_timestamp"),
            (at + F.expr("INTERVAL 1 SECOND")).alias("ingested_at"), F.to_date(at).alias("ingest_date"),
        )
    )


def prepare(spark: SparkSession, root: str, first_posting: int, postings: int) -> int:
    """Append the three topics' bronze rows for `postings` postings; returns the number of events."""
    for kind, topic in TOPICS.items():
        tables.ensure(spark, EVENT_TABLES[topic], root)
        tables.append(events(spark, kind, first_posting, postings), EVENT_TABLES[topic].name, root)
    return 3 * postings
