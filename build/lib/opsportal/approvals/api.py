"""People's API for four-eyes approvals (session or token authenticated, under
/api/v1/approvals/). Every write calls a service; refusals come back as 400/403/409
with `{"error": {"code", "message", "field"}}` (opsportal.core.errors)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.db.models import Prefetch
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from opsportal.approvals import serializers as s
from opsportal.approvals import services
from opsportal.approvals.filters import ApprovalRequestFilter
from opsportal.approvals.models import Approval, ApprovalRequest
from opsportal.approvals.registry import all_actions, get_action
from opsportal.approvals.selectors import approval_request_for, approval_requests_list
from opsportal.core.errors import NotFound, ValidationFailed


def _resolve_target(data: dict[str, Any]) -> Any:
    """The target named by `target` (the action's lookup) or `target_type` +
    `target_id`. ValidationFailed/NotFound when it cannot be found."""
    try:
        spec = get_action(data["action"])
    except KeyError:
        raise ValidationFailed(
            f"Unknown action '{data['action']}'.", code="unknown_action", field="action"
        ) from None
    key = data.get("target")
    if key:
        if spec.target_lookup is None:
            raise ValidationFailed(
                "This action needs target_id, not target.", code="invalid", field="target"
            )
        found = spec.target_lookup(key)
        if found is None:
            raise NotFound(f"No target '{key}'.", field="target")
        return found
    target_type = data.get("target_type") or spec.target_model
    if target_type != spec.target_model:
        raise ValidationFailed(
            f"The target of '{spec.action}' must be a {spec.target_model}.",
            code="wrong_target",
            field="target_type",
        )
    if not data.get("target_id"):
        raise ValidationFailed("Name the target.", code="required", field="target_id")
    model = apps.get_model(spec.target_model)
    try:
        found = model._default_manager.filter(pk=data["target_id"]).first()
    except (ValueError, TypeError):
        found = None
    if found is None:
        raise NotFound("No such target.", field="target_id")
    return found


def _detail(request: Request, pk: int) -> Response:
    approval = approval_request_for(request.user, pk)
    return Response(s.ApprovalRequestDetailSerializer(approval).data)


class ApprovalRequestListApi(generics.ListAPIView):
    """GET: approval requests, newest first, filterable by status, action and
    requester. POST: ask for an approval."""

    serializer_class = s.ApprovalRequestSerializer

    @property
    def required_permission(self) -> str:
        if self.request.method == "POST":
            return "approvals.add_approvalrequest"
        return "approvals.view_approvalrequest"

    def get_queryset(self) -> Any:
        return approval_requests_list().prefetch_related(
            Prefetch("decisions", queryset=Approval.objects.select_related("approver"))
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=ApprovalRequest.Status.values),
            OpenApiParameter("action", str, enum=sorted(a.action for a in all_actions())),
            OpenApiParameter("requester", str),
        ]
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        filterset = ApprovalRequestFilter(request.query_params, queryset=self.get_queryset())
        if not filterset.is_valid():
            field, errors = next(iter(filterset.errors.items()))
            raise ValidationFailed(f"{field}: {errors[0]}", field=field)
        page = self.paginate_queryset(filterset.qs)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request=s.ApprovalRequestCreateInput, responses={201: s.ApprovalRequestDetailSerializer}
    )
    def post(self, request: Request) -> Response:
        data = s.ApprovalRequestCreateInput(data=request.data)
        data.is_valid(raise_exception=True)
        approval = services.approval_request_create(
            action=data.validated_data["action"],
            target=_resolve_target(data.validated_data),
            reason=data.validated_data["reason"],
            payload=data.validated_data["payload"],
            actor=request.user,
        )
        body = s.ApprovalRequestDetailSerializer(approval_request_for(request.user, approval.pk))
        return Response(body.data, status=status.HTTP_201_CREATED)


class ApprovalRequestDetailApi(APIView):
    required_permission = "approvals.view_approvalrequest"

    @extend_schema(responses=s.ApprovalRequestDetailSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return _detail(request, pk)


class _ApprovalActionApi(APIView):
    """POST a decision or change on one request: the body is validated by
    `input_serializer`, whose fields are exactly the keyword arguments `service`
    takes besides request_id and actor; answers with the request as it now is."""

    input_serializer: type[serializers.Serializer]
    service: Callable[..., Any]

    def act(self, request: Request, pk: int) -> Response:
        approval_request_for(request.user, pk)
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        self.service(request_id=pk, actor=request.user, **data.validated_data)
        return _detail(request, pk)


class ApprovalGrantApi(_ApprovalActionApi):
    """Approve with the payload hash you reviewed and your password (step-up)."""

    required_permission = "approvals.decide_approvalrequest"
    input_serializer = s.ApproveInput
    service = staticmethod(services.approval_grant)

    @extend_schema(request=s.ApproveInput, responses=s.ApprovalRequestDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return self.act(request, pk)


class ApprovalRejectApi(_ApprovalActionApi):
    """Reject (a veto, final) with a reason and your password."""

    required_permission = "approvals.decide_approvalrequest"
    input_serializer = s.RejectInput
    service = staticmethod(services.approval_reject)

    @extend_schema(request=s.RejectInput, responses=s.ApprovalRequestDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return self.act(request, pk)


class ApprovalCancelApi(_ApprovalActionApi):
    """The requester withdraws their pending request."""

    required_permission = "approvals.add_approvalrequest"
    input_serializer = s.CancelInput
    service = staticmethod(services.approval_cancel)

    @extend_schema(request=s.CancelInput, responses=s.ApprovalRequestDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return self.act(request, pk)


class ApprovalAmendApi(_ApprovalActionApi):
    """The requester replaces the payload; approvals given so far stop counting."""

    required_permission = "approvals.add_approvalrequest"
    input_serializer = s.AmendInput
    service = staticmethod(services.approval_request_amend)

    @extend_schema(request=s.AmendInput, responses=s.ApprovalRequestDetailSerializer)
    def post(self, request: Request, pk: int) -> Response:
        return self.act(request, pk)
