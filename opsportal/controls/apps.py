from django.apps import AppConfig


class ControlsConfig(AppConfig):
    name = "opsportal.controls"
    label = "controls"
    verbose_name = "Trading controls"
