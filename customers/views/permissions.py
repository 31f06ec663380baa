from django.core.exceptions import PermissionDenied


def require_perm(request, permission):
    if not request.user.has_perm(permission):
        raise PermissionDenied
