from django.urls import path

from opsportal.approvals import api

urlpatterns = [
    path("approvals/", api.ApprovalRequestListApi.as_view(), name="api-approvals"),
    path("approvals/<int:pk>/", api.ApprovalRequestDetailApi.as_view(), name="api-approval"),
    path(
        "approvals/<int:pk>/approve",
        api.ApprovalGrantApi.as_view(),
        name="api-approval-approve",
    ),
    path("approvals/<int:pk>/reject", api.ApprovalRejectApi.as_view(), name="api-approval-reject"),
    path("approvals/<int:pk>/cancel", api.ApprovalCancelApi.as_view(), name="api-approval-cancel"),
    path("approvals/<int:pk>/amend", api.ApprovalAmendApi.as_view(), name="api-approval-amend"),
]
