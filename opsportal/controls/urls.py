from django.urls import path

from opsportal.controls import views

app_name = "controls"
urlpatterns = [path("", views.EnvironmentListView.as_view(), name="list")]
