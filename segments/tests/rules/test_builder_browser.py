"""The rule builder in chromium, on a page of its own served by this module (ROOT_URLCONF):
an owner builds "spent more than 100 in the last 90 days AND (tier is GOLD OR has tag vip)",
sees the preview count, and the form posts exactly that tree; without JavaScript the same
form is a JSON textarea whose mistakes come back as messages."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django import forms
from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.template import engines
from django.urls import path
from django.utils import timezone
from playwright.sync_api import expect

from customers.bulk.writers import recompute_stats
from customers.models import Business, Customer, Order, Tag
from segments.rules import PreviewTooSlow, RuleError, preview
from segments.rules.forms import RulesField

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGE = engines["django"].from_string(
    """<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Rules</title>
    {% load static %}<link rel="stylesheet" href="{% static 'css/app.css' %}"></head>
    <body><main class="main"><form method="post">{% csrf_token %}
    {% if form.errors %}<ul class="errorlist" data-testid="errors">
      {% for message in form.rules.errors %}<li>{{ message }}</li>{% endfor %}</ul>{% endif %}
    {{ form.rules }}<button type="submit">Save</button></form>
    {% if saved %}<pre data-testid="saved">{{ saved }}</pre>{% endif %}</main></body></html>"""
)


class RulesForm(forms.Form):
    rules = RulesField(preview_url="/preview/")


@login_not_required
def builder_page(request):
    form = RulesForm(request.POST or None, initial={"rules": ""})
    saved = (
        json.dumps(form.cleaned_data["rules"], sort_keys=True) if request.POST and form.is_valid() else None
    )
    get_token(request)
    return HttpResponse(PAGE.render({"form": form, "saved": saved}, request))


@login_not_required
def preview_view(request):
    business = Business.objects.get(slug="acme")
    try:
        answer = preview(request.POST.get("rules", ""), business=business)
        names = dict(Customer.objects.filter(pk__in=answer["sample"]).values_list("pk", "phone"))
        members = [{"name": names[pk], "url": f"/customers/{pk}/"} for pk in answer["sample"]]
        return JsonResponse({**answer, "members": members})
    except RuleError as error:
        return JsonResponse({"errors": {"rules": error.messages}}, status=400)
    except PreviewTooSlow as error:
        return JsonResponse({"error": str(error)}, status=503)


urlpatterns = [path("", builder_page), path("preview/", preview_view)]

WANTED = {
    "operator": "AND",
    "rules": [
        {"field": "total_spent", "operator": "greater_than", "value": 100, "timeframe": "last_90_days"},
        {
            "operator": "OR",
            "rules": [
                {"field": "tier", "operator": "equals", "value": "GOLD"},
                {"field": "tags", "operator": "contains", "value": "vip"},
            ],
        },
    ],
}


@pytest.fixture
def shop(business, settings):
    settings.ROOT_URLCONF = __name__
    now = timezone.now()
    vip = Tag.objects.create(business=business, name="vip")
    people = {
        "gold spender": Customer.objects.create(business=business, phone="+14155550101", tier="GOLD"),
        "vip spender": Customer.objects.create(business=business, phone="+14155550102"),
        "plain spender": Customer.objects.create(business=business, phone="+14155550103"),
        "gold, spent little": Customer.objects.create(business=business, phone="+14155550104", tier="GOLD"),
    }
    people["vip spender"].tags.add(vip)
    for number, (name, amount) in enumerate(
        [
            ("gold spender", "150"),
            ("vip spender", "120"),
            ("plain spender", "300"),
            ("gold, spent little", "20"),
        ]
    ):
        Order.objects.create(
            business=business,
            customer=people[name],
            external_id=f"O-{number}",
            amount=Decimal(amount),
            currency="USD",
            placed_at=now - timedelta(days=5),
        )
    recompute_stats([customer.pk for customer in people.values()])
    return business


def test_an_owner_builds_nested_rules_sees_the_preview_count_and_posts_the_tree(shop, page):
    page.goto("/")
    expect(page.locator("textarea[name=rules]")).to_be_hidden()
    root = page.locator(".segment-builder-group[data-depth='1'] > .segment-builder-actions")

    root.get_by_role("button", name="Add rule").click()
    rule = page.locator(".segment-builder-rule").nth(0)
    expect(rule.get_by_label("Field")).to_be_focused()
    # The new rule has no value yet: the preview says what is missing.
    expect(page.get_by_test_id("rule-preview")).to_contain_text("rules[0].value: a number is needed")
    rule.get_by_label("Field").select_option("total_spent")
    rule.get_by_label("Timeframe").select_option("last_90_days")
    rule.get_by_label("Operator").select_option("greater_than")
    rule.get_by_label("Value").fill("100")
    expect(page.get_by_test_id("rule-preview").locator("p")).to_have_text("3 customers match")

    root.get_by_role("button", name="Add group").click()
    group = page.locator(".segment-builder-group[data-depth='2']")
    expect(group.get_by_label("Match")).to_have_value("OR")
    inner = group.locator(".segment-builder-rule").nth(0)
    inner.get_by_label("Field").select_option("tier")
    expect(inner.get_by_label("Operator")).to_have_value("equals")
    inner.get_by_label("Value").select_option("GOLD")
    group.get_by_role("button", name="Add rule").click()
    tag_rule = group.locator(".segment-builder-rule").nth(1)
    tag_rule.get_by_label("Field").select_option("tags")
    expect(tag_rule.get_by_label("Operator")).to_have_value("contains")
    tag_rule.get_by_label("Tag").fill("vip")

    expect(page.get_by_test_id("rule-preview").locator("p")).to_have_text("2 customers match")
    sample = page.get_by_role("list", name="First members")
    expect(sample.get_by_role("link")).to_have_text(["+14155550102", "+14155550101"])
    page.screenshot(path="/tmp/s1-builder.png", full_page=True)
    page.get_by_role("button", name="Save").click()

    assert json.loads(page.get_by_test_id("saved").text_content()) == WANTED
    # The saved rules come back into the builder as they were built.
    expect(page.locator(".segment-builder-rule")).to_have_count(3)


def test_groups_negate_remove_and_the_json_view_stay_in_step(shop, page):
    page.goto("/")
    root = page.locator(".segment-builder-group[data-depth='1'] > .segment-builder-actions")
    root.get_by_role("button", name="Add group").click()
    group = page.locator(".segment-builder-group[data-depth='2']")
    group.get_by_label("Not").check()
    rule = group.locator(".segment-builder-rule").nth(0)
    rule.get_by_label("Field").select_option("last_order_at")
    rule.get_by_label("Operator").select_option("more_than_days_ago")
    rule.get_by_label("Days").fill("90")
    root.get_by_role("button", name="Add rule").click()
    status = page.locator(".segment-builder-rule").nth(1)
    status.get_by_label("Field").select_option("status")
    status.get_by_label("Operator").select_option("in")
    status.get_by_label("Value").select_option(["active", "inactive"])

    page.get_by_role("button", name="Edit as JSON").click()
    textarea = page.locator("textarea[name=rules]")
    expect(textarea).to_be_visible()
    assert json.loads(textarea.input_value()) == {
        "operator": "AND",
        "rules": [
            {
                "operator": "OR",
                "negate": True,
                "rules": [{"field": "last_order_at", "operator": "more_than_days_ago", "value": 90}],
            },
            {"field": "status", "operator": "in", "value": ["active", "inactive"]},
        ],
    }
    group.get_by_role("button", name="Remove group").click()
    page.locator(".segment-builder-rule").get_by_role("button", name="Remove rule").click()
    assert json.loads(textarea.input_value()) == {"operator": "AND", "rules": []}
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("errors")).to_have_text("rules: a group needs at least one rule")


def test_without_javascript_the_rules_are_a_json_textarea_and_mistakes_come_back_as_messages(
    shop, browser, live_server
):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    page = context.new_page()
    page.goto("/")
    textarea = page.locator("textarea[name=rules]")
    expect(textarea).to_be_visible()
    page.screenshot(path="/tmp/s1-builder-nojs.png", full_page=True)
    bad = {
        "operator": "AND",
        "rules": [{"field": "total_spent", "operator": "greater_than", "value": "lots"}],
    }
    textarea.fill(json.dumps(bad))
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_test_id("errors")).to_contain_text(
        "rules[0].timeframe: a timeframe is needed (last_30_days, last_90_days, last_365_days, lifetime)"
    )
    expect(page.get_by_test_id("errors")).to_contain_text("rules[0].value: a number is needed")
    page.locator("textarea[name=rules]").fill(json.dumps(WANTED))
    page.get_by_role("button", name="Save").click()
    assert json.loads(page.get_by_test_id("saved").text_content()) == WANTED
    context.close()
