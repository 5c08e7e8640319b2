from django.urls import include, path

from drills import library_views, views

app_name = "drills"
urlpatterns = [
    path("library/", include(library_views.urlpatterns)),
    path("", include(views.urlpatterns)),
]
