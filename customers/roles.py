"""What each role may do. A role is a Django group of the same name; a membership's role
picks the group whose permissions apply while the user works in that business."""

from customers.models import Membership

Role = Membership.Role

# Everyone who works in a business reads its customers.
READ_CUSTOMERS = [
    f"customers.view_{model}"
    for model in (
        "customer",
        "customeraccount",
        "dropoff",
        "order",
        "orderitem",
        "blacklistentry",
        "note",
        "tag",
        "activity",
        "payment",
        "refund",
    )
]

# Everyone reads a customer's communication preferences and consent history on the profile.
READ_PREFERENCES = ["privacy.view_communicationpreference", "privacy.view_consentevent"]

ROLE_PERMISSIONS = {
    Role.OWNER: [
        "customers.view_dashboard",
        "customers.use_segments",
        "customers.use_loyalty",
        "loyalty.view_tierchange",
        "loyalty.view_tierconfigaudit",
        "loyalty.view_pointsentry",
        "loyalty.view_pointsrule",
        "loyalty.change_pointsrule",
        "loyalty.adjust_points",
        # Segments in Django admin too (through the same services as the pages).
        "segments.view_segment",
        "segments.add_segment",
        "segments.change_segment",
        "segments.delete_segment",
        "customers.use_privacy",
        "customers.request_export",
        *READ_PREFERENCES,
        "privacy.change_privacysettings",
        "customers.view_business",
        "customers.change_business",
        *READ_CUSTOMERS,
        "customers.delete_customer",
        "customers.restore_customer",
        "customers.merge_customers",
        # Owners tag their audiences, one customer or many at once (the bulk actions).
        "customers.add_tag",
        "customers.view_apikey",
        "customers.add_apikey",
        "customers.change_apikey",
        "customers.view_auditentry",
        # Webhooks: Settings › Webhooks and the admin.
        "customers.view_webhookendpoint",
        "customers.add_webhookendpoint",
        "customers.change_webhookendpoint",
        "customers.delete_webhookendpoint",
        "customers.view_webhookdelivery",
        "customers.view_webhookattempt",
        "customers.import_customer",
        "customers.export_customer",
        "customers.import_order",
        "customers.export_order",
        "customers.refund_payment",
    ],
    Role.SUPPORT: [
        *READ_CUSTOMERS,
        "customers.change_customer",
        "customers.blacklist_customer",
        "customers.merge_customers",
        "customers.add_note",
        "customers.add_tag",
        "customers.change_tag",
        "customers.change_order",
        "customers.refund_payment",
        "customers.add_dropoff",
        "loyalty.view_pointsentry",
        "loyalty.adjust_points",
        *READ_PREFERENCES,
        "privacy.change_communicationpreference",
        "privacy.add_anonymizationrequest",
    ],
    Role.COMPLIANCE: [
        *READ_CUSTOMERS,
        "customers.use_privacy",
        "customers.request_export",
        "customers.run_privacy_actions",
        *READ_PREFERENCES,
        "privacy.change_communicationpreference",
        "privacy.add_anonymizationrequest",
        "privacy.view_anonymizationrequest",
        "privacy.view_dataexport",
        "privacy.view_accesslog",
    ],
}


def group_name(role):
    return Role(role).label


def sync_role_groups(apps=None, **kwargs):
    """Create or update the role groups. Runs from a migration and after every migrate, so
    permissions added by later models reach the roles without extra steps."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    apps = apps or global_apps
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, names in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=group_name(role))
        wanted = []
        for name in names:
            app_label, codename = name.split(".")
            wanted += Permission.objects.filter(content_type__app_label=app_label, codename=codename)
        group.permissions.set(wanted)
