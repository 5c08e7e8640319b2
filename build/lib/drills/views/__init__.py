"""Browser views for drills: schedules.py (home, calendar), runs.py (planning, the run
page and its write paths), signoffs.py (signing, the printable record). The URL
patterns of the app are here (`drills.urls` includes them)."""

from __future__ import annotations

from django.urls import path

from drills.views.runs import (
    ActionItemAddView,
    ActionItemStatusView,
    DrillRunDetailView,
    DrillRunPlanView,
    PrecheckTickView,
    RunAbortView,
    RunCompleteView,
    RunStartView,
    StepRecordView,
    StepRecoveryRecordView,
    StepRecoveryStartView,
    StepTriggerView,
)
from drills.views.schedules import DrillCalendarView, DrillListView
from drills.views.signoffs import DrillRunRecordView, DrillRunSignView

urlpatterns = [
    path("", DrillListView.as_view(), name="list"),
    path("calendar/", DrillCalendarView.as_view(), name="calendar"),
    path("runs/plan/", DrillRunPlanView.as_view(), name="run_plan"),
    path("runs/<int:pk>/", DrillRunDetailView.as_view(), name="run_detail"),
    path(
        "runs/<int:pk>/prechecks/<int:item_id>/tick",
        PrecheckTickView.as_view(),
        name="run_precheck_tick",
    ),
    path("runs/<int:pk>/start", RunStartView.as_view(), name="run_start"),
    path(
        "runs/<int:pk>/steps/<int:result_id>/record",
        StepRecordView.as_view(),
        name="run_step_record",
    ),
    path(
        "runs/<int:pk>/steps/<int:result_id>/trigger",
        StepTriggerView.as_view(),
        name="run_step_trigger",
    ),
    path(
        "runs/<int:pk>/steps/<int:result_id>/recovery/start",
        StepRecoveryStartView.as_view(),
        name="run_step_recovery_start",
    ),
    path(
        "runs/<int:pk>/steps/<int:result_id>/recovery/record",
        StepRecoveryRecordView.as_view(),
        name="run_step_recovery_record",
    ),
    path("runs/<int:pk>/issues/add", ActionItemAddView.as_view(), name="run_action_add"),
    path(
        "runs/<int:pk>/issues/<int:item_id>/status",
        ActionItemStatusView.as_view(),
        name="run_action_status",
    ),
    path("runs/<int:pk>/complete", RunCompleteView.as_view(), name="run_complete"),
    path("runs/<int:pk>/abort", RunAbortView.as_view(), name="run_abort"),
    path("runs/<int:pk>/sign", DrillRunSignView.as_view(), name="run_sign"),
    path("runs/<int:pk>/record", DrillRunRecordView.as_view(), name="run_record"),
]
