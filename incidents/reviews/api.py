"""The reviews API under /api/v1/: list and read reviews and action items, start a
review, replace a draft, submit, ask for changes, sign (password step-up, content
hash), and change an action item's status. Same services as the pages; refusals are
`{"error": {"code", "message", "field"}}` (opsportal.core.errors)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents import selectors as incident_selectors
from incidents.reviews import selectors, services
from incidents.reviews import serializers as s
from incidents.reviews.models import ActionItem, PostIncidentReview, ReviewState
from incidents.severity import SEVERITY_CHOICES
from opsportal.signoffs.services import signoff_sign

PEOPLE_AUTH = [SessionAuthentication]


def _valid(serializer_class: type, data: Any) -> dict[str, Any]:
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _detail(review_id: int) -> Response:
    review = selectors.review_get(review_id)
    detail = selectors.review_detail(review)
    return Response(s.ReviewDetailOut(review, context={"detail": detail}).data)


class ReviewListApi(generics.ListAPIView):
    """Reviews, newest first. Filters: state, severity, overdue (true), author (user id)."""

    authentication_classes = PEOPLE_AUTH
    required_permission = "incidents.view_postincidentreview"
    serializer_class = s.ReviewOut

    @extend_schema(
        parameters=[
            OpenApiParameter("state", str, enum=ReviewState.values),
            OpenApiParameter("severity", str, enum=[c for c, _ in SEVERITY_CHOICES]),
            OpenApiParameter("overdue", bool),
            OpenApiParameter("author", int),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[PostIncidentReview]:
        q = self.request.query_params
        state, severity, author = q.get("state", ""), q.get("severity", ""), q.get("author", "")
        return selectors.review_list(
            state=state if state in ReviewState.values else "",
            severity=severity if severity in dict(SEVERITY_CHOICES) else "",
            overdue=q.get("overdue", "") in ("true", "1"),
            author=int(author) if author.isdigit() and len(author) < 10 else None,
        )


class ReviewDetailApi(APIView):
    """GET a review with its content hash, action items and sign-offs. PUT replaces a
    draft's content (409 once it is in review or approved: corrections are new
    revisions)."""

    authentication_classes = PEOPLE_AUTH

    @property
    def required_permission(self) -> str:
        if self.request.method == "PUT":
            return "incidents.change_postincidentreview"
        return "incidents.view_postincidentreview"

    @extend_schema(responses=s.ReviewDetailOut)
    def get(self, request: Request, review_id: int) -> Response:
        return _detail(review_id)

    @extend_schema(request=s.ReviewIn, responses=s.ReviewDetailOut)
    def put(self, request: Request, review_id: int) -> Response:
        selectors.review_get(review_id)
        data = _valid(s.ReviewIn, request.data)
        items = [
            services.ActionItemInput(
                title=i["title"],
                owner_id=i["owner"],
                due_on=i["due_on"],
                kind=i["kind"],
                priority=i["priority"],
                link=i.get("link", ""),
                id=i.get("id"),
            )
            for i in data.pop("action_items")
        ]
        services.review_update(
            review_id=review_id,
            actor=request.user,
            action_items=items,
            whys=[dict(w) for w in data.pop("whys")],
            factors=[dict(f) for f in data.pop("factors")],
            **data,
        )
        return _detail(review_id)


class ReviewStartApi(APIView):
    """Start the review of incident `pk` (an incident commander; 409 if it has one)."""

    authentication_classes = PEOPLE_AUTH
    required_permission = "incidents.start_postincidentreview"

    @extend_schema(request=None, responses={201: s.ReviewDetailOut})
    def post(self, request: Request, pk: int) -> Response:
        incident = incident_selectors.get_incident_for(request.user, pk)
        review = services.review_start(incident_id=incident.pk, actor=request.user)
        response = _detail(review.pk)
        response.status_code = status.HTTP_201_CREATED
        return response


class ReviewSubmitApi(APIView):
    """draft → in_review (400 naming what is missing)."""

    authentication_classes = PEOPLE_AUTH
    required_permission = "incidents.submit_postincidentreview"

    @extend_schema(request=None, responses=s.ReviewDetailOut)
    def post(self, request: Request, review_id: int) -> Response:
        selectors.review_get(review_id)
        services.review_submit(review_id=review_id, actor=request.user)
        return _detail(review_id)


class ReviewRequestChangesApi(APIView):
    """in_review → draft, with the reason."""

    authentication_classes = PEOPLE_AUTH
    required_permission = "incidents.request_changes_postincidentreview"

    @extend_schema(request=s.ReviewRequestChangesIn, responses=s.ReviewDetailOut)
    def post(self, request: Request, review_id: int) -> Response:
        selectors.review_get(review_id)
        data = _valid(s.ReviewRequestChangesIn, request.data)
        services.review_request_changes(review_id=review_id, actor=request.user, **data)
        return _detail(review_id)


class ReviewSignApi(APIView):
    """Sign a review in review: role, password (step-up) and the `content_sha256` you
    were shown (GET the review). The second valid sign-off approves it."""

    authentication_classes = PEOPLE_AUTH
    required_permission = "incidents.sign_postincidentreview"

    @extend_schema(request=s.ReviewSignIn, responses={201: s.SignoffOut})
    def post(self, request: Request, review_id: int) -> Response:
        review = selectors.review_get(review_id)
        data = _valid(s.ReviewSignIn, request.data)
        signoff = signoff_sign(target=review, actor=request.user, **data)
        return Response(s.SignoffOut(signoff).data, status=status.HTTP_201_CREATED)


class ActionItemListApi(generics.ListAPIView):
    """Action items, soonest due first. Filters: mine (true), status, overdue (true)."""

    authentication_classes = PEOPLE_AUTH
    required_permission = "incidents.view_actionitem"
    serializer_class = s.ActionItemOut

    @extend_schema(
        parameters=[
            OpenApiParameter("mine", OpenApiTypes.BOOL),
            OpenApiParameter("status", str, enum=ActionItem.Status.values),
            OpenApiParameter("overdue", OpenApiTypes.BOOL),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[ActionItem]:
        q = self.request.query_params
        qs = ActionItem.objects.select_related("incident", "owner").order_by("due_on", "id")
        if q.get("mine", "") in ("true", "1"):
            qs = qs.filter(owner_id=self.request.user.pk)
        if q.get("status", "") in ActionItem.Status.values:
            qs = qs.filter(status=q["status"])
        if q.get("overdue", "") in ("true", "1"):
            qs = qs.filter(pk__in=selectors.overdue_action_items().values("pk"))
        return qs


class ActionItemStatusApi(APIView):
    """Mark an action item done, won't do (with a reason) or open again."""

    authentication_classes = PEOPLE_AUTH
    required_permission = "incidents.set_status_actionitem"

    @extend_schema(request=s.ActionItemStatusIn, responses=s.ActionItemOut)
    def post(self, request: Request, action_id: int) -> Response:
        data = _valid(s.ActionItemStatusIn, request.data)
        item = services.action_item_set_status(item_id=action_id, actor=request.user, **data)
        item = ActionItem.objects.select_related("incident", "owner").get(pk=item.pk)
        return Response(s.ActionItemOut(item).data)
