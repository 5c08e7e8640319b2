from django.urls import path

from opsportal.controls import token_views, views

app_name = "controls"
urlpatterns = [
    path("", views.EnvironmentListView.as_view(), name="list"),
    path("kill/", views.KillSwitchTriggerView.as_view(), name="trigger"),
    path("gate-tokens/", token_views.GateTokenListView.as_view(), name="gate_tokens"),
    path(
        "gate-tokens/<int:pk>/revoke",
        token_views.GateTokenRevokeView.as_view(),
        name="gate_token_revoke",
    ),
    path("<slug:slug>/", views.EnvironmentDetailView.as_view(), name="detail"),
    path("<slug:slug>/recover/", views.KillSwitchRecoverView.as_view(), name="recover"),
    path("<slug:slug>/go-live/", views.LiveTransitionRequestView.as_view(), name="go_live"),
    path("<slug:slug>/rollback/", views.ModeRollbackView.as_view(), name="rollback"),
    path(
        "<slug:slug>/checklist-items/<int:item_id>/tick/",
        views.ModeChecklistTickView.as_view(),
        name="checklist_tick",
    ),
]
