from django import forms

from loyalty import tiers
from loyalty.models import TIER_ORDER, TIERS_ABOVE_BRONZE, Period, Tier


class TierConfigurationForm(forms.Form):
    """The page's form: for each tier above bronze its three thresholds and period, the grace
    days and the reason. The checks are the service's (loyalty.tiers), shown by field."""

    grace_days = forms.IntegerField(min_value=0, max_value=tiers.MAX_GRACE_DAYS, label="Grace days")
    reason = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.TextInput(attrs={"size": 50}),
        help_text="Required to save: why the tiers change.",
    )

    def __init__(self, *args, configuration, **kwargs):
        initial = {"grace_days": configuration.grace_days}
        for tier in TIERS_ABOVE_BRONZE:
            name = tiers.key(tier)
            for kind, value in configuration.thresholds[name].items():
                initial[f"{name}_{kind}"] = value
        super().__init__(*args, initial=initial, **kwargs)
        for tier in TIERS_ABOVE_BRONZE:
            name, label = tiers.key(tier), tier.label
            self.fields[f"{name}_spend"] = forms.DecimalField(
                required=False, min_value=0, max_digits=14, decimal_places=2, label=f"{label} spend"
            )
            self.fields[f"{name}_visits"] = forms.IntegerField(
                required=False, min_value=1, label=f"{label} visits"
            )
            self.fields[f"{name}_points"] = forms.IntegerField(
                required=False, min_value=1, label=f"{label} points"
            )
            self.fields[f"{name}_period"] = forms.ChoiceField(choices=Period.choices, label=f"{label} period")

    def tier_rows(self):
        """The fields of each tier, for the template's table."""
        return [
            {"tier": tier, "fields": [self[f"{tiers.key(tier)}_{kind}"] for kind in (*tiers.KINDS, "period")]}
            for tier in TIERS_ABOVE_BRONZE
        ]

    def thresholds(self):
        data = self.cleaned_data
        return {
            tiers.key(tier): {
                "spend": None
                if data[f"{tiers.key(tier)}_spend"] is None
                else str(data[f"{tiers.key(tier)}_spend"]),
                "visits": data[f"{tiers.key(tier)}_visits"],
                "points": data[f"{tiers.key(tier)}_points"],
                "period": data[f"{tiers.key(tier)}_period"],
            }
            for tier in TIERS_ABOVE_BRONZE
        }

    def add_service_errors(self, error):
        """The service's errors by tier (or field) on the form."""
        for field, messages in error.message_dict.items():
            target = field if field in self.fields else None
            for message in messages:
                self.add_error(target, f"{field.title()}: {message}" if target is None else message)


class OverrideForm(forms.Form):
    tier = forms.ChoiceField(choices=[(tier, Tier(tier).label) for tier in TIER_ORDER])
    reason = forms.CharField(max_length=500)
    expires_at = forms.DateTimeField(
        required=False,
        label="Until",
        help_text="Empty: until removed",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )


class PointsRuleForm(forms.Form):
    points_per_unit = forms.DecimalField(
        min_value=0, max_value=1000, max_digits=8, decimal_places=2, label="Points per 1.00 spent"
    )
    expiry_months = forms.IntegerField(
        required=False, min_value=1, max_value=120, label="Expire after (months)", help_text="Empty: never"
    )


class AdjustPointsForm(forms.Form):
    points = forms.IntegerField(
        help_text="Negative takes points away", widget=forms.NumberInput(attrs={"step": 1})
    )
    reason = forms.CharField(max_length=500)
