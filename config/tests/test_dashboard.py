from customers import services


def test_owner_dashboard_shows_figures_and_blocked_orders_of_the_business(
    business, other_business, owner, client_for
):
    services.record_order(business=business, external_id="A-1", phone="+14155550101", amount="30.00")
    services.record_order(business=business, external_id="A-2", phone="+14155550102", amount="12.50")
    blocked, _ = services.get_or_create_customer(business=business, phone="+14155550103")
    services.blacklist_customer(customer=blocked, reason="fraud", actor=owner)
    services.record_order(business=business, external_id="A-3", phone="+14155550103", amount="99.00")
    services.record_order(business=other_business, external_id="B-1", phone="+447911123456", amount="500.00")

    response = client_for(owner).get("/")

    kpis = {kpi["label"]: kpi["value"] for kpi in response.context["kpis"]}
    assert kpis["Customers"] == "3"
    assert kpis["Orders"] == "2"
    assert kpis["Revenue"] == "USD 42.50"
    assert kpis["Blacklisted"] == "1"
    assert kpis["Blocked orders"] == "1"
    assert [day["count"] for day in response.context["blocked_per_day"]] == [1]
    assert "Blocked orders per day" in response.content.decode()
