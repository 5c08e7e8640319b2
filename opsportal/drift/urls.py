from django.urls import path

from opsportal.drift import views

app_name = "drift"
urlpatterns = [
    path("", views.DriftOverviewView.as_view(), name="overview"),
    path("sources/<int:pk>/", views.SourceDetailView.as_view(), name="source"),
    path("sources/<int:pk>/check/", views.SourceCheckNowView.as_view(), name="check_now"),
    path(
        "config/<slug:slug>/propose/",
        views.ProposeBaselineView.as_view(),
        name="propose_baseline",
    ),
]
