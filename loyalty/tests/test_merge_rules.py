from customers import services
from customers.models import Customer
from loyalty import services as loyalty_services


def customer(business, phone, tier, points):
    person, _ = services.get_or_create_customer(business=business, phone=phone)
    Customer.objects.filter(pk=person.pk).update(tier=tier)
    if points:
        give_points(person, points)
    return Customer.objects.get(pk=person.pk)


def give_points(customer, points):
    loyalty_services.change_points(customer=customer, kind="adjust", points=points, reason="Test", actor=None)


def merge(survivor, *merged, actor):
    return services.merge_customers(survivor=survivor, merged=merged, reason="Same person", actor=actor)


def test_the_survivor_gets_the_highest_tier_and_every_merged_customers_points(business, support):
    ann = customer(business, "+14155550101", Customer.Tier.SILVER, 100)
    bob = customer(business, "+14155550202", Customer.Tier.GOLD, 30)
    cal = customer(business, "+14155550303", Customer.Tier.BRONZE, 5)

    merge(ann, bob, cal, actor=support)

    ann.refresh_from_db()
    assert (ann.tier, ann.points_balance) == (Customer.Tier.GOLD, 135)


def test_a_survivor_with_the_highest_tier_keeps_it(business, support):
    ann = customer(business, "+14155550101", Customer.Tier.PLATINUM, 0)
    bob = customer(business, "+14155550202", Customer.Tier.GOLD, 0)

    merge(ann, bob, actor=support)

    ann.refresh_from_db()
    assert (ann.tier, ann.points_balance) == (Customer.Tier.PLATINUM, 0)


def test_an_undo_gives_back_the_tiers_and_points(business, support):
    ann = customer(business, "+14155550101", Customer.Tier.SILVER, 100)
    bob = customer(business, "+14155550202", Customer.Tier.GOLD, 30)
    record = merge(ann, bob, actor=support)
    give_points(ann, 10)  # ann earned 10 points since

    services.undo_merge(record=record, actor=support)

    ann.refresh_from_db()
    bob.refresh_from_db()
    assert (ann.tier, ann.points_balance) == (Customer.Tier.SILVER, 110)
    assert (bob.tier, bob.points_balance) == (Customer.Tier.GOLD, 30)


def test_an_undo_keeps_a_tier_given_to_the_survivor_since_the_merge(business, support):
    ann = customer(business, "+14155550101", Customer.Tier.SILVER, 0)
    bob = customer(business, "+14155550202", Customer.Tier.GOLD, 0)
    record = merge(ann, bob, actor=support)
    Customer.objects.filter(pk=ann.pk).update(tier=Customer.Tier.PLATINUM)

    services.undo_merge(record=record, actor=support)

    ann.refresh_from_db()
    assert ann.tier == Customer.Tier.PLATINUM
