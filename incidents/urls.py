from django.urls import path

from incidents import views

app_name = "incidents"
urlpatterns = [path("", views.DashboardView.as_view(), name="list")]
