"""What the gold tables share (CONTRACT.md section 6): their facts, UTC years, age groups, "top", medians.

Each gold table joins silver.pins with only the silver table it groups by (its spec's
`inputs`), inner, on `ind`: a pin without a user row still counts for its country.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from pyspark.sql import Column, DataFrame, Window
from pyspark.sql import functions as F

from lakehouse.silver.geo import GEO
from lakehouse.silver.pins import PINS
from lakehouse.silver.users import USERS

# Age groups by their inclusive upper bound (ages are whole numbers); older than the last bound: 50+.
AGE_BOUNDS = ((17, "under 18"), (24, "18-24"), (35, "25-35"), (50, "36-50"))
OVER_50 = "50+"
AGE_GROUPS = (*(label for _, label in AGE_BOUNDS), OVER_50)


def utc_year(ts: Column) -> Column:
    """The year of an instant in UTC, whatever the session time zone."""
    wall_clock = F.convert_timezone(F.current_timezone(), F.lit("UTC"), ts.cast("timestamp_ntz"))
    return F.year(wall_clock).cast("int")


def age_group(age: Column) -> Column:
    """The age group of an age (AGE_GROUPS, youngest first); null for a null age."""
    group = F.when(age > AGE_BOUNDS[-1][0], F.lit(OVER_50))
    for bound, label in reversed(AGE_BOUNDS):
        group = F.when(age <= bound, F.lit(label)).otherwise(group)
    return group


# What each silver table brings to a gold table's facts: the join key and its grouping columns.
FACT_COLUMNS: dict[str, Callable[[DataFrame], DataFrame]] = {
    PINS.name: lambda pins: pins.select("ind", "category", "poster_name", "follower_count"),
    GEO.name: lambda geo: geo.select("ind", "country", utc_year(F.col("event_time")).alias("post_year")),
    USERS.name: lambda users: users.select("ind", age_group(F.col("age")).alias("age_group"),
                                           utc_year(F.col("date_joined")).alias("join_year")),
}

# Each fact column and the silver column it is computed from (what FACT_COLUMNS selects): column lineage.
FACT_SOURCES: dict[str, tuple[str, str]] = {
    "category": (PINS.name, "category"), "poster_name": (PINS.name, "poster_name"),
    "follower_count": (PINS.name, "follower_count"), "country": (GEO.name, "country"),
    "post_year": (GEO.name, "event_time"), "age_group": (USERS.name, "age"), "join_year": (USERS.name, "date_joined"),
}


def facts(frames: dict[str, DataFrame], inputs: Iterable[str], weight: int = 1) -> DataFrame:
    """The inputs' fact columns inner-joined on `ind` (one input: its columns alone), each row
    counted `weight` times in column `n` (-1: a row an increment retracts)."""
    first, *rest = [FACT_COLUMNS[name](frames[name]) for name in inputs]
    for other in rest:
        first = first.join(other, on="ind", how="inner")
    return first.withColumn("n", F.lit(weight).cast("long"))


def summarize(rows: DataFrame, columns: Iterable[str]) -> DataFrame:
    """Counted rows (facts, a state, or both with an increment's signed counts) as a state: each
    distinct combination of `columns` once, with the sum of its counts; combinations whose
    counts cancel out are dropped. Null is a value like any other here (builds leave it out)."""
    columns = list(columns)
    return rows.groupBy(*columns).agg(F.sum("n").alias("n")).where(F.col("n") != 0)


def top_per_group(df: DataFrame, keys: list[str], name: str, score: str) -> DataFrame:
    """Per group of `keys`, the row with the highest `score`; ties go to the alphabetically first `name`."""
    window = Window.partitionBy(*keys).orderBy(F.col(score).desc(), F.col(name).asc())
    return df.withColumn("_rank", F.row_number().over(window)).where(F.col("_rank") == 1).drop("_rank")


def top_category(counted: DataFrame, keys: list[str]) -> DataFrame:
    """Per group, the category with most pins (ties: alphabetically first) and its count, from
    rows counted in `n` (facts, or a state)."""
    per_category = (
        counted.where(F.col("category").isNotNull() & all_present(keys))
        .groupBy(*keys, "category").agg(F.sum("n").alias("category_count"))
    )
    return top_per_group(per_category, keys, "category", "category_count")


def median_followers(counted: DataFrame, keys: list[str]) -> DataFrame:
    """Per group, the exact continuous median follower_count (a double) over pins that have one,
    from rows counted in `n`: with N values in order, the value at position (N - 1) / 2 from
    0, or the mean of the two around it (as Spark's `percentile(x, 0.5)` interpolates)."""
    values = (counted.where(F.col("follower_count").isNotNull() & all_present(keys))
              .groupBy(*keys, "follower_count").agg(F.sum("n").alias("n")))
    up_to = F.sum("n").over(Window.partitionBy(*keys).orderBy("follower_count")
                            .rowsBetween(Window.unboundedPreceding, Window.currentRow))
    total = F.sum("n").over(Window.partitionBy(*keys))
    placed = values.withColumn("up_to", up_to).withColumn("total", total)
    lower, upper = F.floor((F.col("total") - 1) / 2), F.ceil((F.col("total") - 1) / 2)
    ends = placed.groupBy(*keys).agg(
        F.min(F.when(F.col("up_to") > lower, F.col("follower_count"))).alias("lower"),
        F.min(F.when(F.col("up_to") > upper, F.col("follower_count"))).alias("upper"))
    median = F.col("lower").cast("double") * 0.5 + F.col("upper").cast("double") * 0.5
    return ends.select(*keys, median.alias("median_follower_count"))


def all_present(keys: list[str]) -> Column:
    """Predicate: none of the grouping columns is null (rows with a null key are left out)."""
    present = F.lit(True)
    for key in keys:
        present = present & F.col(key).isNotNull()
    return present


# --- expectations the gold tables share -------------------------------------------------------


def expect_top_category() -> list:
    """A top category and its count: the count at least 1; the category itself only warned about."""
    from quality import expect as x

    return [x.not_null("category", x.WARNING), x.not_null("category_count"), x.between("category_count", 1)]


def expect_age_group() -> list:
    """`age_group` is one of the contract's groups."""
    from quality import expect as x

    return [x.in_set("age_group", AGE_GROUPS)]


def expect_median() -> list:
    """A median follower count: present and not negative."""
    from quality import expect as x

    return [x.not_null("median_follower_count"), x.between("median_follower_count", 0)]
