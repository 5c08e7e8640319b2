from django.urls import include, path

from drills import views

app_name = "drills"
urlpatterns = [
    path("", include(views.urlpatterns)),
]
