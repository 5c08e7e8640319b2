from django.urls import path

from opsportal.reports import api

urlpatterns = [
    path("reports/", api.ReportListApi.as_view(), name="reports-api-list"),
    path("reports/<int:pk>/", api.ReportDetailApi.as_view(), name="reports-api-detail"),
    path(
        "reports/<int:pk>/report.html",
        api.ReportFileApi.as_view(fmt="html"),
        name="reports-api-file-html",
    ),
    path(
        "reports/<int:pk>/report.pdf",
        api.ReportFileApi.as_view(fmt="pdf"),
        name="reports-api-file-pdf",
    ),
]
