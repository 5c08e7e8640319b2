from django.urls import path

from drills import views

app_name = "drills"
urlpatterns = [path("", views.ProcedureListView.as_view(), name="list")]
