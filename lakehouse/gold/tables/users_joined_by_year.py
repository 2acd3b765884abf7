"""gold.users_joined_by_year: how many silver.users rows joined in each UTC year (users alone)."""

from __future__ import annotations

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from lakehouse.silver.users import USERS
from lakehouse.spec import Table

SCHEMA = T.StructType([
    T.StructField("join_year", T.IntegerType()),
    T.StructField("number_users_joined", T.LongType()),
])
JOINED = "date_joined IS NOT NULL"
USERS_WITH_JOIN_YEAR = "users_with_join_year"


def build_users_joined_by_year(facts: DataFrame) -> DataFrame:
    """Per join year, the number of users (rows of silver.users' facts) that joined then."""
    return (
        facts.where(F.col("join_year").isNotNull())
        .groupBy("join_year").agg(F.sum("n").alias("number_users_joined"))
        .select(*SCHEMA.fieldNames())
    )


def expect_users_joined_by_year() -> list:
    """Counts of at least 1 that add up to the silver.users rows with a join year."""
    from quality import expect as x

    return [x.not_null("number_users_joined"), x.between("number_users_joined", 1),
            x.critical(x.ExpectColumnTotalToBeBetween, name="sum equals silver.users with a join_year",
                       column="number_users_joined", min_value=x.param(USERS_WITH_JOIN_YEAR),
                       max_value=x.param(USERS_WITH_JOIN_YEAR),
                       description="sum(number_users_joined) equals the silver.users rows with a join_year")]


TABLE = Table(
    name="gold.users_joined_by_year", schema=SCHEMA, keys=("join_year",), description="Users joined per year",
    inputs=(USERS.name,), build=build_users_joined_by_year, expectations=expect_users_joined_by_year,
    reach={USERS.name: JOINED}, counts={USERS_WITH_JOIN_YEAR: (USERS.name, JOINED)},
    summary=("join_year",),
)
