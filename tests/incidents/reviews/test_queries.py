"""The reviews list and a review's detail page cost a fixed number of queries,
whatever the number of reviews or action items (200 reviews)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.incidents.reviews.factories import ActionItemFactory, ReviewFactory

pytestmark = pytest.mark.django_db


def queries(client, url):
    client.get(url)  # warm the per-process caches (content types) so runs compare fairly
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.fixture
def two_hundred_reviews(users):
    reviews = ReviewFactory.create_batch(200, author=users["commander"])
    for review in reviews[:50]:
        ActionItemFactory.create_batch(2, review=review, owner=users["operator1"])
    return reviews


@pytest.mark.parametrize("query", ["", "?state=draft&severity=SEV1", "?overdue=1", "?page=3"])
def test_reviews_list_query_count_does_not_grow_with_rows(
    client_for, users, two_hundred_reviews, query
):
    client = client_for("risk")
    few = queries(client, reverse("incidents:review_list") + "?state=approved")  # no rows
    many = queries(client, reverse("incidents:review_list") + query)
    assert many == few
    print(f"reviews list {query or '(all)'}: {many} queries")  # noqa: T201 - BENCHMARKS


def test_review_detail_query_count_does_not_grow_with_action_items(
    client_for, users, two_hundred_reviews
):
    client = client_for("risk")
    bare = two_hundred_reviews[-1]
    busy = two_hundred_reviews[0]
    ActionItemFactory.create_batch(30, review=busy, owner=users["operator2"])
    few = queries(client, reverse("incidents:review_detail", args=[bare.pk]))
    many = queries(client, reverse("incidents:review_detail", args=[busy.pk]))
    assert many == few
    print(f"review detail: {many} queries")  # noqa: T201 - BENCHMARKS


def test_printable_review_query_count_does_not_grow_with_action_items(
    client_for, users, two_hundred_reviews
):
    client = client_for("auditor")
    bare, busy = two_hundred_reviews[-1], two_hundred_reviews[0]
    ActionItemFactory.create_batch(30, review=busy, owner=users["operator2"])
    assert queries(client, reverse("incidents:review_print", args=[busy.pk])) == queries(
        client, reverse("incidents:review_print", args=[bare.pk])
    )
