from django.urls import path

from opsportal.controls import api, stream

urlpatterns = [
    path("environments/", api.EnvironmentListApi.as_view(), name="controls-api-list"),
    path(
        "environments/<slug:slug>/", api.EnvironmentStatusApi.as_view(), name="controls-api-status"
    ),
    path("environments/<slug:slug>/gate", api.gate, name="controls-api-gate"),
    path(
        "environments/<slug:slug>/gate/stream", stream.gate_stream, name="controls-api-gate-stream"
    ),
    path(
        "environments/<slug:slug>/history",
        api.EnvironmentHistoryApi.as_view(),
        name="controls-api-history",
    ),
    path(
        "environments/<slug:slug>/kill-switch/trigger",
        api.KillSwitchTriggerApi.as_view(),
        name="controls-api-trigger",
    ),
    path(
        "environments/<slug:slug>/kill-switch/recover",
        api.KillSwitchRecoverApi.as_view(),
        name="controls-api-recover",
    ),
    path(
        "environments/<slug:slug>/live-transition",
        api.LiveTransitionRequestApi.as_view(),
        name="controls-api-live-transition",
    ),
    path(
        "environments/<slug:slug>/rollback",
        api.ModeRollbackApi.as_view(),
        name="controls-api-rollback",
    ),
]
