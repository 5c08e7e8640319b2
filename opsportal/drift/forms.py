from django import forms

from opsportal.core.text import REASON_MAX


class ProposeBaselineForm(forms.Form):
    reason = forms.CharField(max_length=REASON_MAX, strip=True)
