"""The incidents API (`/api/v1/incidents/`): the same services as the browser pages.

Each view declares `required_permission` (opsportal.core.api.DeclaredPermission); domain
errors become `{"error": {"code", "message", "field"}}` with their status.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, prefetch_related_objects
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.authentication import SessionAuthentication
from rest_framework.generics import ListAPIView
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from incidents import selectors, services
from incidents.filters import IncidentFilter
from incidents.models import TimelineEntry
from incidents.serializers import (
    TIMELINE_ENTRY_SCHEMA,
    IncidentDetailOut,
    IncidentOpenIn,
    IncidentOut,
    TimelineEntryIn,
    TimelineEntryOut,
    TransitionIn,
)
from opsportal.controls.models import Environment
from opsportal.core.errors import NotFound, ValidationFailed

# People use this API from a signed-in session; the engines' gate tokens are for the gate.
PEOPLE_AUTH = [SessionAuthentication]


class IncidentCursorPagination(CursorPagination):
    """Keyset pages of 50, newest first: `{"next", "previous", "results"}`, where
    `next` / `previous` are URLs carrying an opaque `cursor`. A deep page costs what
    the first does (index `incident_list_order`); there is no total count."""

    page_size = 50
    ordering = ("-detected_at", "-id")


class IncidentListApi(ListAPIView):
    """GET: incidents, newest first, in cursor pages (`next` / `previous` links);
    filters `q` (a whole reference `INC-YYYYMMDD-NNN` finds that incident, other text
    searches reference, title, summary and affected systems), `state`
    (open|finished), `status`, `severity`. POST: open an incident (201)."""

    authentication_classes = PEOPLE_AUTH
    pagination_class = IncidentCursorPagination

    serializer_class = IncidentOut

    @property
    def required_permission(self) -> str:
        return (
            "incidents.add_incident" if self.request.method == "POST" else "incidents.view_incident"
        )

    def get_queryset(self) -> Any:
        queryset = selectors.incidents_for(self.request.user)
        filterset = IncidentFilter(self.request.query_params, queryset=queryset)
        if not filterset.is_valid():
            field, errors = next(iter(filterset.errors.items()))
            raise ValidationFailed(f"{field}: {' '.join(errors)}", field=field)
        return filterset.qs

    @extend_schema(request=IncidentOpenIn, responses={201: IncidentOut})
    def post(self, request: Request) -> Response:
        data = IncidentOpenIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        environment = None
        if values["environment"]:
            environment = Environment.objects.filter(slug=values["environment"]).first()
            if environment is None:
                raise NotFound("No such environment.", field="environment")
        incident = services.incident_open(
            actor=request.user,
            title=values["title"],
            severity=values["severity"],
            summary=values["summary"],
            environment=environment,
            trading_halted=values["trading_halted"],
            orders_affected=values["orders_affected"],
            playbook_slug=values["playbook"],
        )
        return Response(IncidentOut(incident).data, status=status.HTTP_201_CREATED)


class IncidentDetailApi(APIView):
    authentication_classes = PEOPLE_AUTH
    required_permission = "incidents.view_incident"

    @extend_schema(responses=IncidentDetailOut)
    def get(self, request: Request, pk: int) -> Response:
        incident = selectors.get_incident_for(request.user, pk)
        timeline = TimelineEntry.objects.select_related("author").order_by("occurred_at", "id")
        prefetch_related_objects([incident], Prefetch("timeline", queryset=timeline))
        return Response(IncidentDetailOut(incident).data)


class IncidentTransitionApi(APIView):
    """POST `/incidents/<pk>/transitions/<verb>`: acknowledge, investigate, mitigate,
    monitor, resolve, close, decline, reopen. The permission follows the verb."""

    authentication_classes = PEOPLE_AUTH

    @property
    def required_permission(self) -> str:
        phase = services.PHASES.get(self.kwargs.get("verb", ""))
        # An unknown verb needs a permission nobody has; the view then answers 404.
        return phase.permission if phase else "incidents.view_incident"

    @extend_schema(request=TransitionIn, responses=IncidentOut)
    def post(self, request: Request, pk: int, verb: str) -> Response:
        if verb not in services.PHASES:
            raise NotFound(f"Unknown incident action '{verb}'.", field="verb")
        incident = selectors.get_incident_for(request.user, pk)
        data = TransitionIn(data=request.data)
        data.is_valid(raise_exception=True)
        incident = services.incident_transition(
            verb=verb, actor=request.user, incident=incident, note=data.validated_data["note"]
        )
        return Response(IncidentOut(incident).data)


class IncidentTimelineApi(APIView):
    """POST a note, a command run or an evidence link (with `url`)."""

    authentication_classes = PEOPLE_AUTH

    @property
    def required_permission(self) -> str:
        # The body may be any JSON (`[]`, `"x"`): only an object names a kind; anything
        # else needs the stricter permission and is then refused as invalid (400).
        data = self.request.data if self.request.method == "POST" else None
        kind = data.get("kind") if isinstance(data, dict) else None
        if kind == "note":
            return "incidents.add_note_incident"
        return "incidents.add_record_incident"

    @extend_schema(request=TIMELINE_ENTRY_SCHEMA, responses={201: TimelineEntryOut})
    def post(self, request: Request, pk: int) -> Response:
        incident = selectors.get_incident_for(request.user, pk)
        data = TimelineEntryIn(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        entry = services.timeline_entry_add(
            incident=incident,
            actor=request.user,
            kind=values["kind"],
            body=values["body"],
            metadata={"url": values["url"]} if values["kind"] == "evidence" else None,
        )
        return Response(TimelineEntryOut(entry).data, status=status.HTTP_201_CREATED)
